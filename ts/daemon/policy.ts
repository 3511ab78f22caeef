// Applying the control plane's decisions to the engine, one change at a
// time: compile the snapshot from the running config and the daemon's
// state, give it to the engine, and only then make a new config the running
// one. A refused snapshot changes nothing on either side.

import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Engine, EngineSnapshot } from '../native/engine.js';
import type { ConfigState } from './config-state.js';
import type { CompiledSnapshot } from './snapshot.js';

/** What the parts of the daemon may ask of the policy. */
export interface PolicyPort {
  /**
   * Runs `change` after every change before it, then recompiles and applies
   * the snapshot. When the engine refuses it, `undo` puts back what `change`
   * did in memory and the refusal is thrown: nothing stays half-applied.
   */
  apply<T>(change: () => Promise<T> | T, undo?: () => void): Promise<T>;
  /** Recompiles and applies when nobody waits for the outcome; a refusal is logged, never thrown. */
  refresh(): void;
}

export interface PolicyDeps {
  config: ConfigState;
  /** Pure: the snapshot for this config, static-peer endpoints and version, from the daemon's current state. */
  compile(config: Config, endpoints: ReadonlyMap<string, string>, version: number): CompiledSnapshot;
  engine: Pick<Engine, 'applySnapshot'>;
  log: Logger;
}

export class PolicyApplier implements PolicyPort {
  private queue: Promise<unknown> = Promise.resolve();
  private version = 0;
  /** Problems already reported, so a recompile does not repeat them. */
  private reported = new Set<string>();
  /** A refresh waits in the queue: it will compile the state as it is then. */
  private refreshQueued = false;

  constructor(
    private readonly deps: PolicyDeps,
    /** Static peers' resolved endpoints (resolve.ts), replaced at reload. */
    private endpoints: ReadonlyMap<string, string>,
  ) {}

  /** The first snapshot, for the engine's start. */
  initial(): EngineSnapshot {
    return this.compile(this.deps.config.current);
  }

  apply<T>(change: () => Promise<T> | T, undo?: () => void): Promise<T> {
    return this.enqueue(async () => {
      const result = await change();
      try {
        this.deps.engine.applySnapshot(this.compile(this.deps.config.current));
      } catch (err) {
        undo?.();
        throw err;
      }
      return result;
    });
  }

  /**
   * Recompiles from the running state. A burst of changes (adverts, routes
   * expiring) costs one compile, not one each: while a refresh waits in the
   * queue, another is redundant.
   */
  refresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    this.apply(() => {
      this.refreshQueued = false;
    }).catch((err: unknown) =>
      this.deps.log.error({ event: 'policy_failed', reason: describeError(err) }, `the data plane refused the new policy: ${describeError(err)}`),
    );
  }

  /** Makes `next` the running config once the engine accepted its snapshot; throws (changing nothing) if not. */
  applyConfig(next: Config, endpoints: ReadonlyMap<string, string>): Promise<void> {
    return this.enqueue(async () => {
      const snapshot = this.compile(next, endpoints);
      this.deps.engine.applySnapshot(snapshot);
      this.endpoints = endpoints;
      this.deps.config.replace(next);
    });
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private compile(config: Config, endpoints = this.endpoints): EngineSnapshot {
    const { snapshot, problems } = this.deps.compile(config, endpoints, ++this.version);
    const now = new Set(problems.map((p) => p.message));
    for (const message of now) if (!this.reported.has(message)) this.deps.log.error({ event: 'peer_skipped' }, message);
    this.reported = now;
    return snapshot;
  }
}
