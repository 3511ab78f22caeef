// What `route.table` shows: every node this one reaches, with its next hop
// and distance, and the gateways it could route the internet through.
// Pure: built from the peer views, the routing table and the gateway choice.

import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { PeerView } from '../peers/view.js';
import type { Route } from './distance-vector.js';
import type { GatewayCandidate } from './gateway-select.js';

export interface RouteRow {
  destination: string;
  /** node_id of the next hop. */
  via: string;
  hops: number;
  isGateway: boolean;
  /** Seconds since the route was last refreshed (a neighbour's: its last handshake). */
  ageS: number;
}

export interface GatewayRow {
  nodeId: string;
  via: string;
  hops: number;
  /** 0 to 1, higher is better (gatewayScore). */
  score: number;
  /** Latency in ms; null until measured. */
  latencyMs: number | null;
  selected: boolean;
}

export interface RouteTableView {
  routes: RouteRow[];
  gateways: GatewayRow[];
}

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

/**
 * A gateway's standing as a number from 0 to 1, higher is better, from the
 * latency selectGateway ranks by: 100 / (100 + latency in ms), so 0.5 at
 * 100 ms; 0 while unreachable or not yet measured.
 */
export function gatewayScore(g: GatewayCandidate): number {
  return g.reachable && g.latencyMs !== null ? 100 / (100 + g.latencyMs) : 0;
}

export function routeTableView(
  peers: readonly PeerView[],
  reachable: readonly Route[],
  candidates: readonly GatewayCandidate[],
  selected: string | null,
  nowMs: number,
): RouteTableView {
  // A neighbour with a working session is a route of one hop, whatever it
  // has advertised; farther nodes come from the routing table.
  const direct = peers
    .filter((p) => p.state === 'active' && p.path === 'direct')
    // An active session has completed a handshake, so its age is known.
    .map((p) => ({ destination: `${p.meshIp}/32`, via: p.nodeId, hops: 1, isGateway: p.isGateway, ageS: p.lastHandshakeS ?? 0 }));
  const near = new Set(direct.map((r) => r.via));
  const far = reachable
    .filter((r) => !near.has(nodeId(r.key)))
    .map((r) => ({
      destination: `${r.ip}/32`,
      via: nodeId(r.via),
      hops: r.hops,
      isGateway: r.roles.includes('gateway'),
      ageS: Math.floor((nowMs - r.updatedAt) / 1000),
    }));
  const byKey = new Map(reachable.map((r) => [r.key, r]));
  return {
    routes: [...direct, ...far],
    gateways: candidates.map((g) => ({
      nodeId: nodeId(g.publicKey),
      via: nodeId(byKey.get(g.publicKey)?.via ?? g.publicKey),
      hops: g.hops,
      score: gatewayScore(g),
      latencyMs: g.latencyMs,
      selected: selected === g.publicKey,
    })),
  };
}
