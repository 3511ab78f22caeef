// The daemon assembled: load config and identity, claim the control socket
// (refusing if another daemon owns it), start the engine with the compiled
// snapshot, wire each part to the narrow ports it needs, and stop cleanly.
// The parts never see this class; only this file knows them all.

import type pino from 'pino';
import { loadConfig } from '../config/load.js';
import type { PathEnv } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import type { DiscoveredNode, Discovery } from '../discovery/discovery.js';
import type { DiscoveryTransport } from '../discovery/transport.js';
import { describeError } from '../errors.js';
import { loadIdentity, type Identity } from '../identity/identity.js';
import { LogHistory } from '../log/history.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Engine } from '../native/engine.js';
import { parseCidr } from '../net/ipv4.js';
import { PeerBook } from '../peers/book.js';
import { PairFailures } from '../peers/failures.js';
import { RefusedAttempts } from '../peers/refused.js';
import { peerViews, type PeerView } from '../peers/view.js';
import type { Role } from '../routing/roles.js';
import { noNetwork, type OsNetwork } from '../routing/os-network.js';
import { FWMARK } from '../routing/os-routes.js';
import { buildMethods } from '../rpc/methods/index.js';
import { notificationFor } from '../rpc/notify.js';
import { RpcServer } from '../rpc/server.js';
import { logEventWire, type StatusView } from '../rpc/wire.js';
import { Pairing } from '../trust/pairing.js';
import { isExplicit, refusalAdvice } from '../trust/policy.js';
import { TrustStore } from '../trust/store.js';
import { VERSION } from '../version.js';
import { ConfigState } from './config-state.js';
import { handleEngineEvent } from './engine-events.js';
import { logEvent } from './event-log.js';
import { EventBus } from './events.js';
import { GatewayManager } from './gateway.js';
import { methodDeps } from './method-deps.js';
import { startDiscovery } from './lan.js';
import { MeshManager } from './mesh.js';
import { PolicyApplier } from './policy.js';
import { Probes } from './probes.js';
import { reloadConfig, type ReloadResult } from './reload.js';
import { resolveEndpoints } from './resolve.js';
import { nodeRoles, RoleWatch, type NodeRole } from './roles.js';
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
  private stopping: Promise<void> | undefined;
  /** The engine started (the socket is served a moment before). */
  private engineUp = false;
  private discovery: Discovery | undefined;
  readonly runtime = new RuntimeMonitor();
  readonly startedAt = new Date();
  readonly events: EventBus;
  readonly failures = new PairFailures();
  readonly book: PeerBook;
  readonly policy: PolicyApplier;
  readonly routing: RouteManager;
  readonly gateway: GatewayManager;
  readonly mesh: MeshManager;
  readonly pairing: Pairing;
  readonly network: OsNetwork;
  readonly probes: Probes;
  private readonly roleWatch: RoleWatch;

  private constructor(
    readonly state: ConfigState,
    readonly identity: Identity,
    readonly addressing: MeshAddressing,
    readonly engine: Engine,
    readonly logger: Logger,
    readonly history: LogHistory,
    trust: TrustStore,
    endpoints: ReadonlyMap<string, string>,
    private readonly opts: DaemonOptions,
  ) {
    const log = logger;
    this.network = opts.network ?? noNetwork;
    this.probes = new Probes(engine);
    this.events = new EventBus((err, e) => log.error({ event: 'event_subscriber_failed', reason: describeError(err), kind: e.type }, describeError(err)));
    this.events.subscribe((e) => logEvent(log, e));
    this.events.subscribe((e) => {
      const n = notificationFor(e, Date.now());
      this.server?.events.publish(n.topic, { ...n.params, at: new Date().toISOString() }, n.audience);
    });
    this.book = new PeerBook(trust, this.failures, new RefusedAttempts(), () => this.discovery?.list() ?? []);
    const config = (): Config => state.current;
    const persist = state.persist.bind(state);
    this.policy = new PolicyApplier(
      {
        config: state,
        engine,
        log,
        compile: (cfg, eps, version) =>
          compileSnapshot({
            config: cfg,
            identity,
            addressing,
            endpoints: eps,
            version,
            trusted: this.book.trust.records,
            routing: { internetVia: this.routing.internetVia, gateway: this.gateway.active, gatewayBlocked: this.gateway.blocked },
            relayed: this.mesh.relayed(),
            relays: this.mesh.relays(),
            discovered: new Map((this.discovery?.list() ?? []).map((n) => [n.publicKey, n.address])),
          }),
      },
      endpoints,
    );
    this.mesh = new MeshManager({
      selfKey: identity.publicKeyHex,
      meshIp: addressing.meshIp,
      engine,
      roles: () => this.advertisedRoles(),
      log,
      onChanged: () => {
        this.policy.refresh();
        this.routing.reevaluate();
        this.roleWatch.check();
      },
      isExplicit: (publicKey) => isExplicit(publicKey, state.current, trust.records),
    });
    this.routing = new RouteManager({
      config,
      persist,
      network: this.network,
      policy: this.policy,
      candidates: () => this.mesh.gatewayCandidates(),
      events: this.events,
      log,
    });
    this.gateway = new GatewayManager({
      config,
      persist,
      network: this.network,
      meshPrefix: addressing.meshPrefix,
      meshIp: addressing.meshIp,
      policy: this.policy,
      engine,
      events: this.events,
      log,
      onRoleChanged: () => {
        this.roleWatch.check();
        this.mesh.advertiseAll();
      },
    });
    this.roleWatch = new RoleWatch(
      () => this.roles(),
      (roles) => this.events.emit({ type: 'role_changed', roles }),
    );
    this.pairing = new Pairing({
      store: trust,
      refused: this.book.refused,
      failures: this.failures,
      engine,
      resolve: (id, peers) => this.book.resolve(id, peers),
      policy: this.policy,
      log,
    });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config } = await loadConfig(opts.configPath, opts.pathEnv);
    const history = new LogHistory();
    const logger = createLogger(config.log.level, opts.logDestination, history);
    const identity = loadIdentity(config.security.key_file);
    if (identity.created) logger.info({ event: 'key_created', path: config.security.key_file }, 'created a new identity key');
    const trust = await TrustStore.load(config.trust.store);
    const { endpoints, failures } = await resolveEndpoints(config.peers);
    for (const f of failures) {
      logger.warn({ event: 'peer_unresolved', address: f.address }, `cannot resolve static peer ${f.address}: ${f.message}; waiting for it to dial in`);
    }
    const state = new ConfigState(config, opts.configPath, opts.pathEnv);
    const d = new Daemon(state, identity, meshAddressing(config, identity), opts.engine, logger, history, trust, endpoints, opts);
    history.onEntry((entry) => d.server?.events.publish('logs', logEventWire(entry)));
    const methods = buildMethods(methodDeps(d));
    d.server = await RpcServer.listen({
      path: config.rpc.socket,
      methods,
      daemonVersion: VERSION,
      // The features a client can rely on are exactly the methods served.
      features: Object.keys(methods).sort(),
      logger: (level, message, fields) => logger[level]({ event: 'rpc', ...fields }, message),
    });
    try {
      await d.startParts();
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
    d.events.emit({ type: 'interface_up', name: config.interface.name });
    return d;
  }

  private async startParts(): Promise<void> {
    const config = this.state.current;
    this.engine.start(
      {
        privateKey: this.identity.privateKey,
        tunName: config.interface.name,
        mtu: config.interface.mtu,
        bindAddress: config.transport.bind,
        listenPort: config.transport.listen_port,
        fwmark: FWMARK,
      },
      this.policy.initial(),
      (e) => this.onEngineEvent(e),
    );
    this.engineUp = true;
    if (config.gateway.enabled) {
      // A gateway that cannot start leaves a working mesh node, and says why.
      await this.gateway.enable(null, false).catch((err: unknown) =>
        this.logger.error({ event: 'gateway_failed', reason: describeError(err) }, `gateway not started: ${describeError(err)}`),
      );
    } else {
      await this.gateway.clearLeftovers();
    }
    this.mesh.start();
    this.discovery = await startDiscovery(
      {
        config,
        selfKey: this.identity.publicKeyHex,
        localPort: () => this.engine.localPort(),
        roles: () => this.advertisedRoles(),
        isKnown: (publicKey, nodeId) => config.peers.some((p) => p.public_key === publicKey) || this.book.trust.get(nodeId) !== undefined,
        refresh: () => this.policy.refresh(),
        events: this.events,
        log: this.logger,
      },
      this.opts.discoveryTransport,
    );
    await this.routing.start();
  }

  get currentConfig(): Config {
    return this.state.current;
  }

  /** The roles `status` reports (roles.ts). */
  roles(): NodeRole[] {
    return nodeRoles(this.gateway.active, this.mesh.table.reachable());
  }

  /** The roles this node advertises to the mesh. */
  private advertisedRoles(): Role[] {
    return this.gateway.active ? ['gateway'] : [];
  }

  /** The nodes LAN discovery hears now (none when it is off). */
  discoveredNodes(): DiscoveredNode[] {
    return this.discovery?.list() ?? [];
  }

  private onEngineEvent(e: Parameters<typeof handleEngineEvent>[0]): void {
    handleEngineEvent(e, {
      events: this.events,
      log: this.logger,
      failures: this.failures,
      peerAt: (source) => this.engine.peers().find((p) => p.endpoint === source)?.publicKey ?? this.book.pinnedAt(source),
      viewOf: (publicKey) => this.peers().find((v) => v.publicKey === publicKey),
      onConnected: (publicKey, endpoint) => {
        this.pairing
          .recordFirstUse({ publicKey, endpoint }, this.state.current)
          .catch((err: unknown) => this.logger.error({ event: 'trust_store_write_failed', reason: describeError(err) }, `cannot record the TOFU pin: ${describeError(err)}`));
        this.mesh.advertise(publicKey);
      },
      onDisconnected: (publicKey) => this.mesh.onNeighborLost(publicKey),
      onProbeReply: (publicKey, rttMs) => this.probes.reply(publicKey, rttMs),
      onControl: (publicKey, payload) => this.mesh.onAdvert(publicKey, payload),
      onRefused: (publicKey, source) => this.book.refused.record(publicKey, source, new Date()),
      fatal: (message) => {
        this.logger.fatal({ event: 'engine_fault' }, `the data plane failed: ${message}; stopping`);
        void this.stop(true).then(() => this.opts.onStopped?.(1));
      },
    });
  }

  peers(): PeerView[] {
    const engine = this.engine.peers();
    const prefix = parseCidr(this.addressing.meshPrefix)!;
    const now = Date.now();
    return peerViews([...engine, ...this.book.absent(engine, prefix)], this.state.current, this.failures.all, {
      route: (pk) => this.mesh.route(pk),
      advise: (peer) => refusalAdvice(peer, this.state.current, this.book.trust.records),
      heardMsAgo: (pk) => this.book.heardMsAgo(pk, now),
    });
  }

  status(): StatusView {
    return buildStatus({
      config: () => this.state.current,
      identity: this.identity,
      addressing: this.addressing,
      engine: this.engine,
      interfaceUp: () => this.engineUp && this.stopping === undefined,
      roles: () => this.roles(),
      peers: () => this.peers(),
      discoveryDrops: () => this.discovery?.dropped,
      advertsIgnored: () => ({ ...this.mesh.ignored, overLimit: this.mesh.table.refused }),
      expiredRoutes: () => this.mesh.table.unreachable().length,
      routing: this.routing,
      startedAt: this.startedAt,
    });
  }

  /** SIGHUP: validate the file again and apply what can change live; keep the old config if invalid. */
  reload(): Promise<ReloadResult> {
    return reloadConfig({
      state: this.state,
      policy: this.policy,
      log: this.logger,
      applyRoles: async (previous, next) => {
        const { route, gateway } = next;
        await this.routing.reconfigure(previous.route, route);
        // allow_lan changes the NAT table's LAN guard: enabling again reinstalls it (idempotent).
        const changed = (['enabled', 'nat_interface', 'allow_lan'] as const).some((k) => gateway[k] !== previous.gateway[k]);
        if (changed) {
          if (gateway.enabled) await this.gateway.enable(gateway.nat_interface, false);
          else await this.gateway.disable(false);
        }
      },
    });
  }

  /**
   * Stops the engine (TUN removed), closes the socket. Idempotent. `crashed`
   * (an engine fault, an uncaught exception) leaves the kill-switch in place:
   * only a clean stop may lift it (docs/SECURITY.md).
   */
  stop(crashed = false): Promise<void> {
    this.stopping ??= (async () => {
      this.events.emit({ type: 'interface_down', name: this.state.current.interface.name });
      this.mesh.stop();
      this.discovery?.stop();
      await this.routing.stop(crashed);
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
