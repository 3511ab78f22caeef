// The mesh's routing: this node's distance-vector table, the advertisements
// it exchanges with its neighbours (inside their sessions), and what the
// engine gets from it: nodes reached through relays, and where to pass
// relay envelopes for others.

import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import type { Engine } from '../native/engine.js';
import { decodeAdvert, encodeAdverts } from '../routing/adverts.js';
import type { Role } from '../routing/roles.js';
import { INFINITY, MAX_ROUTES, MAX_ROUTES_PER_NEIGHBOR, RoutingTable, type Route } from '../routing/distance-vector.js';
import type { GatewayCandidate } from '../routing/gateway-select.js';
import type { RelayedPeer } from './snapshot.js';

export interface MeshDeps {
  selfKey: string;
  meshIp: string;
  engine: Pick<Engine, 'peers' | 'sendControl'>;
  /** The roles this node advertises. */
  roles(): Role[];
  log: Logger;
  /** The table changed: the snapshot and the gateway choice follow. */
  onChanged(): void;
  /** The user trusts this node explicitly (trust/policy.ts): only then do its roles and farther routes count. */
  isExplicit(publicKey: string): boolean;
}

/** Every neighbour hears the full table this often; changes go out sooner. */
export const ADVERT_INTERVAL_MS = 10_000;
/** Triggered advertisements are at most this frequent. */
const TRIGGER_GAP_MS = 1_000;
const TICK_MS = 1_000;

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

export class MeshManager {
  readonly table: RoutingTable;
  private timer: NodeJS.Timeout | undefined;
  private lastFull = 0;
  private lastSent = 0;
  private triggered = false;
  /** What admitted-but-not-explicit neighbours said that was ignored. */
  readonly ignored = { roles: 0, routes: 0 };

  constructor(
    private readonly d: MeshDeps,
    private readonly now: () => number = Date.now,
  ) {
    this.table = new RoutingTable(d.selfKey);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = this.now();
    if (this.table.expire(now)) this.changed();
    this.retrust();
    if (now - this.lastFull >= ADVERT_INTERVAL_MS || (this.triggered && now - this.lastSent >= TRIGGER_GAP_MS)) this.advertiseAll();
  }

  /** The table changed: tell the neighbours soon, and give the engine the new routes. */
  private changed(): void {
    this.triggered = true;
    this.d.onChanged();
  }

  /** Direct neighbours with a working session (adverts go only to them). */
  private neighbors(): string[] {
    return this.d.engine
      .peers()
      .filter((p) => p.state === 'active' && p.via === undefined)
      .map((p) => p.publicKey);
  }

  advertise(neighbor: string): void {
    const adverts = encodeAdverts({
      roles: this.d.roles(),
      ip: this.d.meshIp,
      routes: this.table.advertFor(neighbor),
    });
    for (const a of adverts) this.d.engine.sendControl(neighbor, a);
  }

  advertiseAll(): void {
    const now = this.now();
    this.lastFull = now;
    this.lastSent = now;
    this.triggered = false;
    for (const n of this.neighbors()) this.advertise(n);
  }

  onAdvert(publicKey: string, payload: Buffer): void {
    const neighbor = this.d.engine.peers().find((p) => p.publicKey === publicKey);
    if (!neighbor || neighbor.via !== undefined) return; // only neighbours speak for routes
    const advert = decodeAdvert(payload);
    if (advert === null) {
      this.d.log.debug({ event: 'advert_ignored', peer_id: nodeId(publicKey) }, 'ignored an advertisement pim does not understand');
      return;
    }
    if (this.d.isExplicit(publicKey)) {
      // A far node's gateway role counts only when that node is explicit too (gatewayCandidates).
      this.ignored.roles += advert.routes.filter((r) => r.roles.includes('gateway') && !this.d.isExplicit(r.key)).length;
      const refusedBefore = this.table.refused;
      if (this.table.receive(publicKey, advert, advert.routes, this.now())) this.changed();
      const refused = this.table.refused - refusedBefore;
      if (refused > 0) {
        this.d.log.warn(
          { event: 'limit_reached', limit: 'routes', peer_id: nodeId(publicKey), refused },
          `the routing table is full (${MAX_ROUTES} routes, ${MAX_ROUTES_PER_NEIGHBOR} per neighbour): ignored ${refused} new destinations`,
        );
      }
      return;
    }
    // A neighbour admitted by first use or allow_all is a leaf: reachable
    // itself, never a way to anyone else. The roles it claims for itself
    // travel on (each node decides whom it trusts), but never make it our
    // gateway (gatewayCandidates).
    if (advert.roles.length > 0) this.ignored.roles++;
    this.ignored.routes += advert.routes.filter((r) => r.hops < INFINITY).length;
    const changed = this.table.receive(publicKey, advert, [], this.now());
    if (this.table.onlyItself(publicKey, this.now()) || changed) this.changed();
  }

  /** Trust changed: what neighbours no longer trusted explicitly said before stops counting. */
  retrust(): void {
    const now = this.now();
    let changed = false;
    for (const n of this.neighbors()) if (!this.d.isExplicit(n)) changed = this.table.onlyItself(n, now) || changed;
    if (changed) this.changed();
  }

  onNeighborLost(publicKey: string): void {
    if (this.table.neighborLost(publicKey, this.now())) this.changed();
  }

  /** Nodes the table reaches through another node, for the engine snapshot. */
  relayed(): RelayedPeer[] {
    return this.table
      .reachable()
      .filter((r) => r.via !== r.key)
      .map((r) => ({ publicKey: r.key, meshIp: r.ip, via: r.via }));
  }

  /** The relay forwarding table: every reachable node and its next hop. */
  relays(): { nodeId: string; via: string }[] {
    return this.table.reachable().map((r) => ({ nodeId: nodeId(r.key), via: r.via }));
  }

  /** Nodes the user trusts explicitly that advertise the gateway role, near or far: nobody else may carry our internet. */
  gatewayCandidates(): GatewayCandidate[] {
    const engine = new Map(this.d.engine.peers().map((p) => [p.publicKey, p]));
    return this.table
      .reachable()
      .filter((r) => r.roles.includes('gateway') && this.d.isExplicit(r.key))
      .map((r) => {
        const p = engine.get(r.key);
        // A neighbour counts while its session works; a far gateway while
        // its route holds (its session opens when traffic needs it).
        const reachable = r.via === r.key ? p?.state === 'active' : true;
        return { publicKey: r.key, reachable, latencyMs: p?.rttMs ?? null, hops: r.hops };
      });
  }

  route(publicKey: string): Route | undefined {
    return this.table.get(publicKey);
  }
}
