// The daemon's lifecycle: load config and identity, claim the control socket
// (refusing if another daemon owns it), start the engine with the compiled
// snapshot, serve status, reload on demand, and stop cleanly.

import * as fs from 'node:fs';
import type pino from 'pino';
import { setKey } from '../config/edit.js';
import { loadConfig } from '../config/load.js';
import type { PathEnv } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import type { Discovery } from '../discovery/discovery.js';
import type { DiscoveryTransport } from '../discovery/transport.js';
import { describeError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { loadIdentity, type Identity } from '../identity/identity.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import { LogHistory } from '../log/history.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Engine, EngineSnapshot } from '../native/engine.js';
import { parseCidr, parseHostPort } from '../net/ipv4.js';
import { PeerBook } from '../peers/book.js';
import { PairFailures } from '../peers/failures.js';
import { RefusedAttempts } from '../peers/refused.js';
import { peerViews, type PeerView } from '../peers/view.js';
import { noNetwork, type OsNetwork } from '../routing/os-network.js';
import { FWMARK } from '../routing/os-routes.js';
import { buildMethods } from '../rpc/methods/index.js';
import { RpcServer } from '../rpc/server.js';
import { anonymousPeerSummary, peerSummary, type StatusView } from '../rpc/wire.js';
import { TrustStore } from '../trust/store.js';
import { VERSION } from '../version.js';
import { handleEngineEvent } from './engine-events.js';
import { GatewayManager } from './gateway.js';
import { startDiscovery } from './lan.js';
import { MeshManager } from './mesh.js';
import { reloadConfig, type ReloadResult } from './reload.js';
import { resolveEndpoints } from './resolve.js';
import { RouteManager } from './routing.js';
import { RuntimeMonitor } from './runtime-metrics.js';
import { compileSnapshot, meshAddressing, type MeshAddressing } from './snapshot.js';
import { buildStatus } from './status.js';

export interface DaemonOptions {
  configPath: string;
  pathEnv: PathEnv;
  engine: Engine;
  logDestination?: pino.DestinationStream;
  /** The OS routing and firewall (default: none, so a test daemon cannot touch the host). */
  network?: OsNetwork;
  /** LAN broadcast for discovery (default: none, so a test daemon never announces on the host's LAN). */
  discoveryTransport?: DiscoveryTransport;
  /** Called once the daemon has stopped on its own (fault, daemon.stop). */
  onStopped?: (exitCode: number) => void;
}

export class Daemon {
  private server: RpcServer | undefined;
  private snapshotVersion = 0;
  private stopping: Promise<void> | undefined;
  /** The engine started (the socket is served a moment before). */
  private engineUp = false;
  /** Policy changes (reloads, pins, pairing) apply one at a time, in order. */
  private applying: Promise<unknown> = Promise.resolve();
  private editing: Promise<unknown> = Promise.resolve();
  readonly failures = new PairFailures();
  readonly runtime = new RuntimeMonitor();
  readonly routing: RouteManager = new RouteManager(this);
  readonly mesh: MeshManager;
  discovery: Discovery | undefined;
  readonly gateway: GatewayManager = new GatewayManager(this);
  readonly book: PeerBook;
  readonly startedAt = new Date();

  private constructor(
    private config: Config,
    readonly configPath: string,
    readonly identity: Identity,
    readonly addressing: MeshAddressing,
    readonly engine: Engine,
    readonly logger: Logger,
    readonly history: LogHistory,
    trust: TrustStore,
    private readonly opts: DaemonOptions,
  ) {
    this.book = new PeerBook(trust, this.failures, new RefusedAttempts(), () => this.discovery?.list() ?? []);
    this.mesh = new MeshManager(this);
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config } = await loadConfig(opts.configPath, opts.pathEnv);
    const history = new LogHistory();
    const logger = createLogger(config.log.level, opts.logDestination, history);
    const identity = loadIdentity(config.security.key_file);
    if (identity.created) logger.info({ event: 'key_created', path: config.security.key_file }, 'created a new identity key');
    const trust = await TrustStore.load(config.trust.store);
    const d = new Daemon(config, opts.configPath, identity, meshAddressing(config, identity), opts.engine, logger, history, trust, opts);
    history.onEntry((entry) => d.publish('logs', { ...entry }));
    const methods = buildMethods(d);
    d.server = await RpcServer.listen({
      path: config.rpc.socket,
      methods,
      daemonVersion: VERSION,
      // The features a client can rely on are exactly the methods served.
      features: Object.keys(methods).sort(),
      logger: (level, message, fields) => logger[level]({ event: 'rpc', ...fields }, message),
    });
    try {
      const snapshot = await d.compile();
      opts.engine.start(
        {
          privateKey: identity.privateKey,
          tunName: config.interface.name,
          mtu: config.interface.mtu,
          bindAddress: config.transport.bind,
          listenPort: config.transport.listen_port,
          fwmark: FWMARK,
        },
        snapshot,
        (e) => d.onEngineEvent(e),
      );
      d.engineUp = true;
      if (config.gateway.enabled) {
        // A gateway that cannot start leaves a working mesh node, and says why.
        await d.gateway.enable(null, false).catch((err: unknown) =>
          logger.error({ event: 'gateway_failed', reason: describeError(err) }, `gateway not started: ${describeError(err)}`),
        );
      } else {
        await d.gateway.clearLeftovers();
      }
      d.mesh.start();
      d.discovery = await startDiscovery(d, opts.discoveryTransport);
      await d.routing.start();
    } catch (err) {
      opts.engine.stop();
      await d.server.close();
      throw err;
    }
    if (config.trust.mode === 'allow_all') {
      logger.warn({ event: 'trust_allow_all' }, 'trust mode allow_all: every peer is trusted; use this only on closed networks');
    }
    logger.info(
      { event: 'daemon_started', node_id: identity.nodeId, mesh_ip: d.addressing.meshIp, interface: config.interface.name, udp_port: opts.engine.localPort(), version: VERSION },
      `pim-daemon ${VERSION} up: ${d.addressing.meshIp} on ${config.interface.name}, UDP ${opts.engine.localPort()}`,
    );
    d.publish('status', { kind: 'interface_up', detail: { name: config.interface.name } });
    return d;
  }

  get currentConfig(): Config {
    return this.config;
  }

  get network(): OsNetwork {
    return this.opts.network ?? noNetwork;
  }

  get pathEnv(): PathEnv {
    return this.opts.pathEnv;
  }

  roles(): string[] {
    return this.gateway.active ? ['node', 'gateway'] : ['node'];
  }

  /**
   * Records state the daemon changed itself (`pim route on`, `pim gateway
   * enable`) in the config file, atomically, keeping the rest of the file.
   */
  persist(edits: readonly [table: 'route' | 'gateway', key: string, value: boolean | string | null][]): Promise<void> {
    return this.editConfig(async () => {
      let text = await fs.promises.readFile(this.configPath, 'utf8');
      for (const [table, key, value] of edits) {
        text = setKey(text, table, key, value);
        (this.config[table] as Record<string, unknown>)[key] = value;
      }
      await writeFileAtomic(this.configPath, text, fs.statSync(this.configPath).mode & 0o777);
    });
  }

  /** Edits of the config file (saves, peer edits, persisted switches) run one at a time. */
  editConfig<T>(edit: () => Promise<T>): Promise<T> {
    const run = this.editing.then(edit);
    this.editing = run.catch(() => undefined);
    return run;
  }

  private async compile(): Promise<EngineSnapshot> {
    const { endpoints, failures } = await resolveEndpoints(this.config.peers);
    for (const f of failures) {
      this.logger.warn({ event: 'peer_unresolved', address: f.address }, `cannot resolve static peer ${f.address}: ${f.message}; waiting for it to dial in`);
    }
    const compiled = compileSnapshot({
      config: this.config,
      identity: this.identity,
      addressing: this.addressing,
      endpoints,
      version: ++this.snapshotVersion,
      trusted: this.book.trust.records,
      routing: this.routing.snapshotRouting(this.gateway.active),
      relayed: this.mesh.relayed(),
      relays: this.mesh.relays(),
      discovered: new Map((this.discovery?.list() ?? []).map((n) => [n.publicKey, n.address])),
    });
    for (const p of compiled.problems) this.logger.error({ event: 'peer_skipped' }, p.message);
    return compiled.snapshot;
  }

  private onEngineEvent(e: Parameters<typeof handleEngineEvent>[0]): void {
    handleEngineEvent(e, {
      logger: this.logger,
      failures: this.failures,
      peerAt: (source) => this.engine.peers().find((p) => p.endpoint === source)?.publicKey ?? this.book.pinnedAt(source),
      onConnected: (publicKey, endpoint) => {
        this.pinOnFirstUse(publicKey, endpoint);
        this.mesh.advertise(publicKey);
      },
      onDisconnected: (publicKey) => this.mesh.onNeighborLost(publicKey),
      onControl: (publicKey, payload) => this.mesh.onAdvert(publicKey, payload),
      onRefused: (publicKey, source) => this.book.refused.record(publicKey, source, new Date()),
      publishPeerEvent: (kind, peer, reason) => {
        const view = peer.publicKey === undefined ? undefined : this.peers().find((v) => v.publicKey === peer.publicKey);
        const summary = view ? peerSummary(view) : anonymousPeerSummary(peer.publicKey ?? null, peer.endpoint ?? null);
        this.publish('peers', { kind, peer: summary, ...(reason === undefined ? {} : { reason }) });
      },
      fatal: (message) => {
        this.logger.fatal({ event: 'engine_fault' }, `the data plane failed: ${message}; stopping`);
        void this.stop().then(() => this.opts.onStopped?.(1));
      },
    });
  }

  publish(topic: 'status' | 'peers' | 'gateway' | 'logs', params: Record<string, unknown>): void {
    this.server?.events.publish(topic, { ...params, at: new Date().toISOString() });
  }

  peers(): PeerView[] {
    const engine = this.engine.peers();
    const prefix = parseCidr(this.addressing.meshPrefix)!;
    return peerViews([...engine, ...this.book.absent(engine, prefix)], this.config, this.failures.all, (pk) => this.mesh.route(pk));
  }

  /**
   * Runs a policy change after those before it, then recompiles and applies
   * the snapshot, so concurrent reloads, pins and pairings never interleave.
   */
  applyPolicy<T>(change: () => Promise<T> | T): Promise<T> {
    const run = this.applying.then(async () => {
      const result = await change();
      this.engine.applySnapshot(await this.compile());
      return result;
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Recompiles and applies the snapshot when nobody waits for it; a refusal is logged, never thrown. */
  refresh(): void {
    this.applyPolicy(() => undefined).catch((err: unknown) =>
      this.logger.error({ event: 'policy_failed', reason: describeError(err) }, `the data plane refused the new policy: ${describeError(err)}`),
    );
  }

  /** TOFU: the first session with a peer that is not configured pins its node_id to its address. */
  private pinOnFirstUse(publicKey: string, endpoint: string): void {
    const configured = this.config.peers.some((p) => p.public_key === publicKey);
    const nodeId = nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
    // Pins are by underlay address; a peer reached through a relay has none.
    if (parseHostPort(endpoint) === null) return;
    if (this.config.trust.mode !== 'tofu' || configured || this.book.trust.get(nodeId)) return;
    void this.applyPolicy(async () => {
      this.book.trust.set(publicKey, endpoint, 'tofu', new Date());
      await this.book.trust.save();
      this.logger.info({ event: 'peer_pinned', peer_id: nodeId, endpoint }, `trusted ${nodeId} on first use at ${endpoint}`);
    }).catch((err: unknown) => this.logger.error({ event: 'trust_store_write_failed', err }, `cannot record the TOFU pin: ${describeError(err)}`));
  }

  status(): StatusView {
    return buildStatus(this);
  }

  /** The interface is up: the engine started and the daemon is not stopping. */
  get interfaceUp(): boolean {
    return this.engineUp && this.stopping === undefined;
  }

  /** SIGHUP: validate the file again and apply what can change live; keep the old config if invalid. */
  reload(): Promise<ReloadResult> {
    return reloadConfig(this, this.opts.pathEnv);
  }

  /** Swaps in a reloaded config (reload.ts decides what), with the policy recompiled. */
  async replaceConfig(next: Config): Promise<void> {
    const previous = this.config;
    try {
      await this.applyPolicy(() => {
        this.config = next;
      });
    } catch (err) {
      this.config = previous;
      throw err;
    }
  }

  /** Stops the engine (TUN removed), closes the socket. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.publish('status', { kind: 'interface_down', detail: { name: this.config.interface.name } });
      this.mesh.stop();
      this.discovery?.stop();
      await this.routing.stop();
      await this.gateway.disable(false).catch((err: unknown) => this.logger.error({ event: 'gateway_cleanup_failed', reason: describeError(err) }, describeError(err)));
      this.engine.stop();
      this.runtime.stop();
      await this.server?.close();
      this.logger.info({ event: 'daemon_stopped' }, 'pim-daemon stopped');
    })();
    return this.stopping;
  }

  /** daemon.stop over RPC: answer first, then stop. */
  requestStop(): void {
    setImmediate(() => void this.stop().then(() => this.opts.onStopped?.(0)));
  }
}
