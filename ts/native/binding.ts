// The only importer of the napi addon. It wraps the generated loader (never
// edited by hand) behind the Engine interface and turns the addon's errors,
// which carry the engine's stable code as their `code` property, into
// PimErrors a user can act on.

import * as path from 'node:path';
import { ENGINE_ERRORS, PimError, type EngineErrorCode } from '../errors.js';
import type { Engine, EngineEvent, EngineOptions, EngineSnapshot, PeerStatus } from './engine.js';
import type * as Native from '../../native/binding/index.js';
import { addonLoadError } from '../packaging/platform.js';

type NativeModule = typeof Native;

// The contract in engine.ts is written by hand for readers; these fail to
// compile the moment it drifts from what napi generated from the Rust types.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Holds<T extends true> = T;
export type ContractChecks = [
  Holds<Same<EngineEvent, Native.EngineEvent>>,
  Holds<Same<EngineOptions, Native.EngineOptions>>,
  // The snapshot narrows the trust mode to its three values.
  Holds<EngineSnapshot extends Native.EngineSnapshot ? true : false>,
  Holds<Same<keyof EngineSnapshot, keyof Native.EngineSnapshot>>,
  // Peer states are one of three strings; the rest is the same.
  Holds<Same<Omit<PeerStatus, 'state' | 'gatewayBytes'>, Omit<Native.PeerStatus, 'state' | 'gatewayBytes'>>>,
];

// dist/ts/native/binding.js → <package root>/native/binding/index.js
const ADDON_PATH = path.join(__dirname, '..', '..', '..', 'native', 'binding', 'index.js');

let loaded: NativeModule | undefined;

function addon(): NativeModule {
  if (loaded) return loaded;
  try {
    loaded = require(ADDON_PATH) as NativeModule;
    return loaded;
  } catch (err) {
    throw addonLoadError(err, path.dirname(ADDON_PATH));
  }
}

/** Every code the engine's errors can carry, as the addon lists them. */
export function engineErrorCodes(): string[] {
  return addon().engineErrorCodes();
}

/** An engine error as the daemon reports it; anything else is a failed engine. */
export function translate(err: unknown): PimError {
  const message = err instanceof Error ? err.message : String(err);
  const raw: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  const known = typeof raw === 'string' && raw in ENGINE_ERRORS ? ENGINE_ERRORS[raw as EngineErrorCode] : undefined;
  if (known === undefined) return new PimError('engine_failed', message, { cause: err });
  return new PimError(known.code, message, 'hint' in known ? { hint: known.hint, cause: err } : { cause: err });
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw translate(err);
  }
}

export class NativeEngine implements Engine {
  private readonly inner = new (addon().Engine)();

  start(options: EngineOptions, snapshot: EngineSnapshot, onEvent: (event: EngineEvent) => void): void {
    call(() => this.inner.start(options, snapshot, onEvent));
  }

  applySnapshot(snapshot: EngineSnapshot): void {
    call(() => this.inner.applySnapshot(snapshot));
  }

  appliedVersion(): number {
    return this.inner.running ? call(() => this.inner.appliedVersion()) : 0;
  }

  forgetPeer(publicKey: string): boolean {
    return call(() => this.inner.forgetPeer(publicKey));
  }

  sendControl(publicKey: string, payload: Buffer): boolean {
    return this.inner.running && call(() => this.inner.sendControl(publicKey, payload));
  }

  probe(publicKey: string): boolean {
    return this.inner.running && call(() => this.inner.probe(publicKey));
  }

  stop(): void {
    this.inner.stop();
  }

  // Before start and after stop the engine has no port, counters or peers;
  // the control socket may be asked in that window, and the honest answer is "none".
  localPort(): number {
    return this.inner.running ? call(() => this.inner.localPort()) : 0;
  }

  stats(): Record<string, number> {
    return this.inner.running ? call(() => this.inner.stats()) : {};
  }

  peers(): PeerStatus[] {
    if (!this.inner.running) return [];
    return call(() => this.inner.peers()).map((p) => ({ ...p, state: p.state as PeerStatus['state'] }));
  }
}

/** Sends `state` to systemd's notification socket (sd_notify(3)); throws if it cannot. */
export function sdNotify(socket: string, state: string): void {
  addon().sdNotify(socket, state);
}
