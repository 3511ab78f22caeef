// The only place snake_case appears: the JSON shapes of interface.md §4,
// built from the daemon's camelCase views.

import { nodeIdFromPublicKey, shortId } from '../identity/node-id.js';
import type { PeerView } from '../peers/view.js';
import type { DiscoveredNode } from '../discovery/discovery.js';

export const SCHEMA_VERSION = 1;

export function peerSummary(v: PeerView): Record<string, unknown> {
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
  };
}

/** What a peer event can say about a peer known only by key and/or address. */
export function anonymousPeerSummary(publicKey: string | null, endpoint: string | null): Record<string, unknown> {
  const nodeId = publicKey === null ? null : nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
  return { node_id: nodeId, node_id_short: nodeId === null ? null : shortId(nodeId), endpoint, x25519_pubkey: publicKey };
}

export function discoveredWire(n: DiscoveredNode, nowMs: number): Record<string, unknown> {
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

export interface StatusView {
  node: string;
  nodeId: string;
  shortId: string;
  publicKey: string;
  meshIp: string;
  interface: { name: string; up: boolean; mtu: number };
  role: string[];
  udpPort: number;
  trustMode: string;
  peers: PeerView[];
  routes: { active: number; selectedGateway: string | null };
  stats: {
    forwardedBytes: number;
    forwardedPackets: number;
    dropped: number;
    congestionDrops: number;
    drops: Record<string, number>;
    txBytes: number;
    rxBytes: number;
    txPackets: number;
    rxPackets: number;
  };
  uptimeS: number;
  routeOn: boolean;
  killSwitch: boolean;
  startedAt: Date;
}

export function status(s: StatusView): Record<string, unknown> {
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
    routes: { active: s.routes.active, selected_gateway: s.routes.selectedGateway },
    stats: {
      forwarded_bytes: s.stats.forwardedBytes,
      forwarded_packets: s.stats.forwardedPackets,
      dropped: s.stats.dropped,
      congestion_drops: s.stats.congestionDrops,
      drops: s.stats.drops,
      tx_bytes: s.stats.txBytes,
      rx_bytes: s.stats.rxBytes,
      tx_packets: s.stats.txPackets,
      rx_packets: s.stats.rxPackets,
    },
    uptime_s: s.uptimeS,
    route_on: s.routeOn,
    kill_switch: s.killSwitch,
    started_at: s.startedAt.toISOString(),
  };
}
