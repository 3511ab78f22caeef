// The mesh's routing table: a distance-vector protocol (RIP's rules) whose
// advertisements travel only inside authenticated sessions. Hop count with
// INFINITY = 16, split horizon with poison reverse, periodic and triggered
// advertisements, and expiry. Pure: the clock is passed in.

import type { Role } from './roles.js';

export const INFINITY = 16;
/** A route not refreshed for this long becomes unreachable. */
export const ROUTE_TTL_MS = 35_000;
/** An unreachable route is still advertised (as INFINITY) this long, then forgotten. */
export const GC_MS = 20_000;
/**
 * Destinations one neighbour may put in the table, and all neighbours
 * together (docs/PROTOCOL.md §5.7): a neighbour that advertises more (a
 * bug, or an explicitly trusted node gone bad) fills only its own share.
 * Routes to destinations already known are always taken.
 */
export const MAX_ROUTES_PER_NEIGHBOR = 256;
export const MAX_ROUTES = 1024;

/** What a neighbour says about one destination: its distance from the neighbour. */
export interface AdvertEntry {
  key: string;
  hops: number;
  roles: readonly Role[];
  ip: string;
}

export interface Route {
  /** The destination's static public key. */
  key: string;
  /** The neighbour packets for it go to (itself, for a neighbour). */
  via: string;
  hops: number;
  roles: readonly Role[];
  /** The mesh IP the destination advertises. */
  ip: string;
  updatedAt: number;
  unreachableSince: number | null;
}

export class RoutingTable {
  private readonly routes = new Map<string, Route>();
  /** Destinations held through each neighbour (kept in step with `routes`). */
  private readonly perVia = new Map<string, number>();
  /** New destinations refused because a cap was reached, since start. */
  refused = 0;

  constructor(private readonly selfKey: string) {}

  get size(): number {
    return this.routes.size;
  }

  /**
   * A neighbour's advertisement: the neighbour itself is one hop away with
   * the roles and IP it states; each entry is a candidate one hop further.
   * Returns whether anything a neighbour would see changed.
   */
  receive(neighbor: string, own: { roles: readonly Role[]; ip: string }, entries: readonly AdvertEntry[], now: number): boolean {
    let changed = this.set(neighbor, neighbor, 1, own.roles, own.ip, now);
    for (const e of entries) {
      if (e.key === this.selfKey || e.key === neighbor) continue;
      const hops = Math.min(e.hops + 1, INFINITY);
      const cur = this.routes.get(e.key);
      if (!cur && !this.hasRoom(neighbor)) {
        this.refused++;
        continue;
      }
      const better = !cur || cur.hops >= INFINITY ? hops < INFINITY : hops < cur.hops;
      // The current next hop's word always counts, good news or bad.
      if (better || cur?.via === neighbor) changed = this.set(e.key, neighbor, hops, e.roles, e.ip, now) || changed;
    }
    return changed;
  }

  /** Whether a new destination through `via` fits under both caps. */
  private hasRoom(via: string): boolean {
    return this.routes.size < MAX_ROUTES && (this.perVia.get(via) ?? 0) < MAX_ROUTES_PER_NEIGHBOR;
  }

  private count(via: string, by: number): void {
    const n = (this.perVia.get(via) ?? 0) + by;
    if (n === 0) this.perVia.delete(via);
    else this.perVia.set(via, n);
  }

  private set(key: string, via: string, hops: number, roles: readonly Role[], ip: string, now: number): boolean {
    const cur = this.routes.get(key);
    if (cur?.via !== via) {
      if (cur) this.count(cur.via, -1);
      this.count(via, 1);
    }
    const reachable = hops < INFINITY;
    const unreachableSince = reachable ? null : (cur?.unreachableSince ?? now);
    const changed =
      !cur || cur.via !== via || cur.hops !== hops || cur.ip !== ip || cur.roles.join() !== roles.join();
    this.routes.set(key, { key, via, hops, roles: [...roles], ip, updatedAt: reachable ? now : (cur?.updatedAt ?? now), unreachableSince });
    return changed;
  }

  /**
   * The neighbour speaks only for itself: every route through it (but its
   * own) becomes unreachable. Returns whether that changed anything.
   */
  onlyItself(neighbor: string, now: number): boolean {
    let changed = false;
    for (const r of this.routes.values()) {
      if (r.key !== neighbor && r.via === neighbor && r.hops < INFINITY) {
        this.routes.set(r.key, { ...r, hops: INFINITY, unreachableSince: now });
        changed = true;
      }
    }
    return changed;
  }

  /** The session with a neighbour went down: everything through it is unreachable. */
  neighborLost(neighbor: string, now: number): boolean {
    let changed = false;
    for (const r of this.routes.values()) {
      if (r.via === neighbor && r.hops < INFINITY) {
        this.routes.set(r.key, { ...r, hops: INFINITY, unreachableSince: now });
        changed = true;
      }
    }
    return changed;
  }

  /** Ages routes out; returns whether a reachable route was lost. */
  expire(now: number): boolean {
    let changed = false;
    for (const r of [...this.routes.values()]) {
      if (r.hops < INFINITY && now - r.updatedAt >= ROUTE_TTL_MS) {
        this.routes.set(r.key, { ...r, hops: INFINITY, unreachableSince: now });
        changed = true;
      } else if (r.unreachableSince !== null && now - r.unreachableSince >= GC_MS) {
        this.routes.delete(r.key);
        this.count(r.via, -1);
      }
    }
    return changed;
  }

  /** What to tell `neighbor`: every route, poisoned where it goes through that neighbour. */
  advertFor(neighbor: string): AdvertEntry[] {
    return [...this.routes.values()]
      .filter((r) => r.key !== neighbor)
      .map((r) => ({ key: r.key, hops: r.via === neighbor ? INFINITY : r.hops, roles: r.roles, ip: r.ip }));
  }

  reachable(): Route[] {
    return [...this.routes.values()].filter((r) => r.hops < INFINITY);
  }

  /** Routes lost (expired, or their neighbour gone) and still advertised as unreachable until forgotten. */
  unreachable(): Route[] {
    return [...this.routes.values()].filter((r) => r.hops >= INFINITY);
  }

  get(key: string): Route | undefined {
    const r = this.routes.get(key);
    return r && r.hops < INFINITY ? r : undefined;
  }
}
