// The only place snake_case appears (with notify.ts): the JSON shapes of
// docs/RPC.md, typed, built from the daemon's camelCase views. The CLI's
// renderers read the same types.

import { nodeIdFromPublicKey, shortId } from '../identity/node-id.js';
import type { PeerView } from '../peers/view.js';
import type { DiscoveredNode } from '../discovery/discovery.js';
import type { Preflight } from '../daemon/gateway.js';
import type { NodeRole } from '../daemon/roles.js';
import type { LogEntry } from '../log/history.js';
import type { RouteTableView } from '../routing/table-view.js';

export const SCHEMA_VERSION = 1;

export interface WirePeerSummary {
  node_id: string;
  node_id_short: string;
  label: string | null;
  mesh_ip: string;
  endpoint: string | null;
  transport: 'udp';
  state: PeerView['state'];
  path: string;
  route_hops: number;
  last_handshake_s: number | null;
  last_seen_s: number | null;
  rx_bytes: number;
  tx_bytes: number;
  latency_ms: number | null;
  is_gateway: boolean;
  static: boolean;
  x25519_pubkey: string;
  last_error: string | null;
  /** A refused peer: the node_id pinned where it came from (a TOFU conflict). */
  conflicts_with: string | null;
  /** A refused peer: what the user can do. */
  hint: string | null;
}

/** A peer known only by key and/or address (a refused or unverifiable handshake). */
export interface WireAnonymousPeer {
  node_id: string | null;
  node_id_short: string | null;
  endpoint: string | null;
  x25519_pubkey: string | null;
}

export interface WireDiscovered {
  node_id: string;
  address: string;
  mechanism: 'broadcast';
  first_seen_s: number;
  last_seen_s: number;
  label_announced: string | null;
  x25519_pubkey: string;
  is_gateway: boolean;
}

export function peerSummary(v: PeerView): WirePeerSummary {
  return {
    node_id: v.nodeId,
    node_id_short: v.shortId,
    label: v.label,
    mesh_ip: v.meshIp,
    endpoint: v.endpoint,
    transport: 'udp',
    state: v.state,
    path: v.path,
    route_hops: v.routeHops,
    last_handshake_s: v.lastHandshakeS,
    last_seen_s: v.lastSeenS,
    rx_bytes: v.rxBytes,
    tx_bytes: v.txBytes,
    latency_ms: v.latencyMs,
    is_gateway: v.isGateway,
    static: v.isStatic,
    x25519_pubkey: v.publicKey,
    last_error: v.lastError,
    conflicts_with: v.conflictsWith,
    hint: v.hint,
  };
}

/** What a peer event can say about a peer known only by key and/or address. */
export function anonymousPeerSummary(publicKey: string | null, endpoint: string | null): WireAnonymousPeer {
  const nodeId = publicKey === null ? null : nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
  return { node_id: nodeId, node_id_short: nodeId === null ? null : shortId(nodeId), endpoint, x25519_pubkey: publicKey };
}

export function discoveredWire(n: DiscoveredNode, nowMs: number): WireDiscovered {
  return {
    node_id: n.nodeId,
    address: n.address,
    mechanism: 'broadcast',
    first_seen_s: Math.floor((nowMs - n.firstSeen) / 1000),
    last_seen_s: Math.floor((nowMs - n.lastSeen) / 1000),
    label_announced: n.name === '' ? null : n.name,
    x25519_pubkey: n.publicKey,
    is_gateway: n.roles.includes('gateway'),
  };
}

/** Segmentation offloads in use: TSO and coalesced writes on the TUN device, UDP GSO and GRO on the socket. */
export interface Offloads {
  tun: boolean;
  udp_gso: boolean;
  udp_gro: boolean;
}

export interface StatusView {
  node: string;
  nodeId: string;
  shortId: string;
  publicKey: string;
  meshIp: string;
  interface: { name: string; up: boolean; mtu: number };
  role: NodeRole[];
  udpPort: number;
  trustMode: string;
  peers: PeerView[];
  routes: { active: number; expired: number; selectedGateway: string | null };
  stats: {
    forwardedBytes: number;
    forwardedPackets: number;
    dropped: number;
    /** The drop counter with the most packets; null while nothing was dropped. */
    droppedReason: string | null;
    congestionDrops: number;
    drops: Record<string, number>;
    txBytes: number;
    rxBytes: number;
    txPackets: number;
    rxPackets: number;
    /** Segmentation offloads in use (docs/PROTOCOL.md §7.1, the gauges); false where the kernel refused or PIM_OFFLOAD=off. */
    offloads: Offloads;
    /** Every other engine counter by name (handshakes, cookies, half-open entries…; docs/PROTOCOL.md §7.1). */
    counters: Record<string, number>;
  };
  uptimeS: number;
  routeOn: boolean;
  killSwitch: boolean;
  lockdown: boolean;
  startedAt: Date;
}

export interface WireStatus {
  node: string;
  node_id: string;
  node_id_short: string;
  x25519_pubkey: string;
  mesh_ip: string;
  interface: { name: string; up: boolean; mtu: number };
  role: NodeRole[];
  transport: { udp: { port: number } };
  trust: { mode: string };
  peers: WirePeerSummary[];
  routes: { active: number; expired: number; selected_gateway: string | null };
  stats: {
    forwarded_bytes: number;
    forwarded_packets: number;
    dropped: number;
    dropped_reason: string | null;
    congestion_drops: number;
    /** pim keeps no connection table of its own (a gateway's NAT is the kernel's, shared with the whole host). */
    conntrack_size: null;
    drops: Record<string, number>;
    tx_bytes: number;
    rx_bytes: number;
    tx_packets: number;
    rx_packets: number;
    offloads: Offloads;
    counters: Record<string, number>;
  };
  uptime_s: number;
  route_on: boolean;
  kill_switch: boolean;
  lockdown: boolean;
  started_at: string;
}

export function status(s: StatusView): WireStatus {
  return {
    node: s.node,
    node_id: s.nodeId,
    node_id_short: s.shortId,
    x25519_pubkey: s.publicKey,
    mesh_ip: s.meshIp,
    interface: s.interface,
    role: s.role,
    transport: { udp: { port: s.udpPort } },
    trust: { mode: s.trustMode },
    peers: s.peers.map(peerSummary),
    routes: { active: s.routes.active, expired: s.routes.expired, selected_gateway: s.routes.selectedGateway },
    stats: {
      forwarded_bytes: s.stats.forwardedBytes,
      forwarded_packets: s.stats.forwardedPackets,
      dropped: s.stats.dropped,
      dropped_reason: s.stats.droppedReason,
      congestion_drops: s.stats.congestionDrops,
      conntrack_size: null,
      drops: s.stats.drops,
      tx_bytes: s.stats.txBytes,
      rx_bytes: s.stats.rxBytes,
      tx_packets: s.stats.txPackets,
      rx_packets: s.stats.rxPackets,
      offloads: s.stats.offloads,
      counters: s.stats.counters,
    },
    uptime_s: s.uptimeS,
    route_on: s.routeOn,
    kill_switch: s.killSwitch,
    lockdown: s.lockdown,
    started_at: s.startedAt.toISOString(),
  };
}

export interface WireRouteTable {
  routes: { destination: string; via: string; hops: number; learned_from: string; is_gateway: boolean; load: null; age_s: number }[];
  gateways: { node_id: string; via: string; hops: number; score: number; latency_ms: number | null; selected: boolean }[];
}

export function routeTableWire(t: RouteTableView): WireRouteTable {
  return {
    routes: t.routes.map((r) => ({
      destination: r.destination,
      via: r.via,
      hops: r.hops,
      // Distance vector learns each route from the neighbour it goes through.
      learned_from: r.via,
      is_gateway: r.isGateway,
      // pim measures no per-route load.
      load: null,
      age_s: r.ageS,
    })),
    gateways: t.gateways.map((g) => ({ node_id: g.nodeId, via: g.via, hops: g.hops, score: g.score, latency_ms: g.latencyMs, selected: g.selected })),
  };
}

export interface WirePreflight {
  supported: boolean;
  platform: 'linux' | 'macos' | 'windows' | 'other';
  checks: { name: string; ok: boolean; detail: string }[];
  suggested_nat_interfaces: string[];
}

/** Node's platform names as pim-ui's. */
const PLATFORMS: Record<string, WirePreflight['platform']> = { linux: 'linux', darwin: 'macos', win32: 'windows' };

export function preflightWire(p: Preflight): WirePreflight {
  return { supported: p.supported, platform: PLATFORMS[p.platform] ?? 'other', checks: p.checks, suggested_nat_interfaces: p.suggestedNatInterfaces };
}

export interface WireGateway {
  active: boolean;
  nat_interface: string | null;
  /** What this node offers the mesh as a gateway: the default route, while the role is on. */
  advertised_routes: string[];
}

export function gatewayWire(g: { active: boolean; natInterface: string | null }): WireGateway {
  return { active: g.active, nat_interface: g.natInterface, advertised_routes: g.active ? ['0.0.0.0/0'] : [] };
}

/** The log levels on the wire: pim-ui's, which have no `fatal`. */
export const WIRE_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type WireLogLevel = (typeof WIRE_LOG_LEVELS)[number];

/** A type, not an interface, so a filter of notification params can take it. */
export type WireLogEvent = {
  ts: string;
  level: WireLogLevel;
  source: string;
  message: string;
  peer_id?: string;
  fields?: Record<string, unknown>;
  at: string;
};

/** A log line as `logs.event`: a fatal line is an error line (the daemon stops after it and says so). */
export function logEventWire(e: LogEntry): WireLogEvent {
  const level = (WIRE_LOG_LEVELS as readonly string[]).includes(e.level) ? (e.level as WireLogLevel) : 'error';
  return {
    ts: e.ts,
    level,
    source: e.source,
    message: e.message,
    ...(e.peer_id === undefined ? {} : { peer_id: e.peer_id }),
    ...(e.fields === undefined ? {} : { fields: e.fields }),
    at: e.ts,
  };
}
