// LAN discovery: announce this node every interval, and keep the table of
// nodes heard. Announcements are hints: nothing is trusted before the Noise
// handshake. Malformed and spoofed ones are dropped and counted, and so are
// those over their source address's rate. Clock injected.

import { SourceLimiter } from '../net/rate-limit.js';
import { decodeAnnouncement, encodeAnnouncement, type Announcement } from './announce.js';
import type { DiscoveryTransport } from './transport.js';

export interface DiscoveredNode extends Announcement {
  /** ip:port to dial: the sender's address with the announced pim port. */
  address: string;
  firstSeen: number;
  lastSeen: number;
}

/** A node not heard for this many intervals is no longer listed. */
const STALE_INTERVALS = 3;
/** Nodes listed at most; a new one evicts the one heard least recently. */
export const MAX_NODES = 256;
/**
 * Announcements one source address may make (docs/PROTOCOL.md §5.10): an
 * honest node sends one per interval (≥ 1 s), a few nodes may share an
 * address; more is dropped before it is parsed. Sources remembered at most.
 */
export const ANNOUNCE_RATE = { perSec: 2, burst: 10 };
export const MAX_SOURCES = 1024;

export interface DiscoveryOptions {
  transport: DiscoveryTransport;
  port: number;
  intervalS: number;
  /** What to announce (read at each announcement: roles and port change). */
  self: () => Omit<Announcement, 'nodeId'>;
  meshInterface: string;
  /** A node heard for the first time (or at a new address). */
  onDiscovered: (node: DiscoveredNode) => void;
  now?: () => number;
}

export class Discovery {
  private readonly nodes = new Map<string, DiscoveredNode>();
  private timer: NodeJS.Timeout | undefined;
  readonly dropped = { malformed: 0, spoofed: 0, rate_limited: 0 };
  private readonly now: () => number;
  private readonly limiter = new SourceLimiter(ANNOUNCE_RATE, MAX_SOURCES);

  constructor(private readonly opts: DiscoveryOptions) {
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.opts.transport.open(this.opts.port, (msg, from) => this.receive(msg, from));
    this.announce();
    this.timer = setInterval(() => this.announce(), this.opts.intervalS * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.opts.transport.close();
  }

  private announce(): void {
    this.opts.transport.broadcast(encodeAnnouncement(this.opts.self()), this.opts.port, this.opts.meshInterface);
  }

  receive(msg: Buffer, from: { address: string }): void {
    if (!this.limiter.take(from.address, this.now())) {
      this.dropped.rate_limited++;
      return;
    }
    const d = decodeAnnouncement(msg);
    if (!d.ok) {
      this.dropped[d.reason]++;
      return;
    }
    const a = d.announcement;
    if (a.publicKey === this.opts.self().publicKey) return;
    const now = this.now();
    const address = `${from.address}:${a.port}`;
    const old = this.nodes.get(a.nodeId);
    if (!old && this.nodes.size >= MAX_NODES) this.evictOldest();
    this.nodes.set(a.nodeId, { ...a, address, firstSeen: old?.firstSeen ?? now, lastSeen: now });
    if (!old || old.address !== address) this.opts.onDiscovered(this.nodes.get(a.nodeId)!);
  }

  private evictOldest(): void {
    let oldest: DiscoveredNode | undefined;
    for (const n of this.nodes.values()) if (!oldest || n.lastSeen < oldest.lastSeen) oldest = n;
    if (oldest) this.nodes.delete(oldest.nodeId);
  }

  /** Nodes heard recently. */
  list(): DiscoveredNode[] {
    const horizon = this.now() - STALE_INTERVALS * this.opts.intervalS * 1000;
    return [...this.nodes.values()].filter((n) => n.lastSeen >= horizon);
  }
}
