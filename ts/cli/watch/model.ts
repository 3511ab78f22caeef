// What `pim watch` shows, kept up to date from the daemon's answers and
// notifications: the last status, routing and gateway answers, each peer's
// traffic rate since the previous poll, and the most recent events. Pure:
// the caller polls and passes the clock.

import { sanitizeForTerminal } from '../format.js';

type Json = Record<string, unknown>;

export interface PeerRate {
  rxPerS: number;
  txPerS: number;
}

export interface WatchEvent {
  at: string;
  text: string;
}

const MAX_EVENTS = 50;

const str = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** One line for a notification: "connected 3fa2c1d0 (bravo) 192.0.2.7:9100". */
export function describeEvent(method: string, params: Json): string {
  const kind = str(params.kind);
  if (method === 'peers.event') {
    const peer = (params.peer ?? {}) as Json;
    const who = peer.node_id_short ?? (typeof peer.node_id === 'string' ? peer.node_id.slice(0, 8) : null);
    const label = peer.label ?? peer.label_announced;
    const parts = [kind, who === null || who === undefined ? 'unknown peer' : String(who)];
    if (label !== null && label !== undefined) parts.push(`(${String(label)})`);
    const endpoint = peer.endpoint ?? peer.address;
    if (endpoint !== null && endpoint !== undefined) parts.push(String(endpoint));
    const text = parts.join(' ');
    // Labels and endpoints come from other nodes: never raw control characters on the terminal.
    return sanitizeForTerminal(params.reason === undefined ? text : `${text}: ${String(params.reason)}`);
  }
  const detail = (params.detail ?? {}) as Json;
  const facts = Object.entries(detail).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return sanitizeForTerminal([method === 'gateway.event' ? `gateway ${kind}` : kind, ...facts].join(' '));
}

export class WatchModel {
  status: Json | undefined;
  routeTable: Json | undefined;
  gateway: Json | undefined;
  readonly rates = new Map<string, PeerRate>();
  readonly events: WatchEvent[] = [];
  private previous: { atMs: number; bytes: Map<string, { rx: number; tx: number }> } | undefined;

  /** A poll's answers, taken at `nowMs`. */
  update(nowMs: number, status: Json, routeTable: Json, gateway: Json): void {
    this.status = status;
    this.routeTable = routeTable;
    this.gateway = gateway;
    const bytes = new Map<string, { rx: number; tx: number }>();
    for (const p of (status.peers ?? []) as Json[]) bytes.set(String(p.node_id), { rx: num(p.rx_bytes), tx: num(p.tx_bytes) });
    const prev = this.previous;
    this.rates.clear();
    if (prev !== undefined && nowMs > prev.atMs) {
      const seconds = (nowMs - prev.atMs) / 1000;
      for (const [id, now] of bytes) {
        const before = prev.bytes.get(id);
        // A new peer, or counters that went back (a new session), have no rate yet.
        if (before === undefined || now.rx < before.rx || now.tx < before.tx) continue;
        this.rates.set(id, { rxPerS: (now.rx - before.rx) / seconds, txPerS: (now.tx - before.tx) / seconds });
      }
    }
    this.previous = { atMs: nowMs, bytes };
  }

  /** A notification; the newest event first. */
  addEvent(method: string, params: Json): WatchEvent {
    const event = { at: typeof params.at === 'string' ? params.at : new Date().toISOString(), text: describeEvent(method, params) };
    this.events.unshift(event);
    this.events.length = Math.min(this.events.length, MAX_EVENTS);
    return event;
  }
}
