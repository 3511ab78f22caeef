// Type checks for what the control socket answers (docs/RPC.md), shared by
// the tests that hold daemon answers against the contract.

import type { ExecutionContext } from 'ava';
import { parseCidr } from '../../ts/net/ipv4.js';

export const HEX = (n: number): RegExp => new RegExp(`^[0-9a-f]{${n}}$`);
export const isIso = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
export const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const nullOr = (check: (v: unknown) => boolean) => (v: unknown) => v === null || check(v);
export const isString = (v: unknown): boolean => typeof v === 'string';
export const isBool = (v: unknown): boolean => typeof v === 'boolean';
export const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** Every PeerSummary field of docs/RPC.md, with the type it must have. */
const PEER_SUMMARY: Record<string, (v: unknown) => boolean> = {
  node_id: (v) => isString(v) && HEX(32).test(v as string),
  node_id_short: (v) => isString(v) && HEX(8).test(v as string),
  label: nullOr(isString),
  mesh_ip: (v) => isString(v) && parseCidr(`${v as string}/32`) !== null,
  endpoint: nullOr(isString),
  transport: (v) => v === 'udp',
  state: (v) => ['active', 'connecting', 'failed', 'relayed'].includes(v as string),
  path: (v) => v === 'direct' || (isString(v) && /^via [0-9a-f]{8}$/.test(v as string)),
  route_hops: isCount,
  last_handshake_s: nullOr(isCount),
  last_seen_s: nullOr(isCount),
  rx_bytes: isCount,
  tx_bytes: isCount,
  latency_ms: nullOr(isNumber),
  is_gateway: isBool,
  static: isBool,
  x25519_pubkey: (v) => isString(v) && HEX(64).test(v as string),
};

export function checkPeerSummary(t: ExecutionContext, p: Record<string, unknown>): void {
  for (const [field, ok] of Object.entries(PEER_SUMMARY)) {
    t.true(field in p, `PeerSummary lacks ${field}`);
    t.true(ok(p[field]), `PeerSummary.${field} = ${JSON.stringify(p[field])}`);
  }
  t.is(p['node_id_short'], (p['node_id'] as string).slice(0, 8));
}
