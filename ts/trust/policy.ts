// The trust policy, whole: who the user trusts explicitly, what the engine
// is told (the explicit node_ids and the TOFU pins), and when a session
// records a pin. The engine decides each handshake from what this compiles;
// nothing else in the control plane decides trust.
//
// Two levels of trust. Explicit: a configured [[peers]] entry, a peer paired
// with `pim peers pair`, a node_id in [trust] allow_list. Admitted: anyone
// else the mode lets in (first use under tofu, everyone under allow_all).
// Only explicit peers may be a gateway or speak for routes (docs/SECURITY.md).

import type { Config } from '../config/schema.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import { parseHostPort } from '../net/ipv4.js';
import type { TrustRecord } from './store.js';

const nodeIdOf = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

/** The node_ids the user named: configured peers, paired peers, the allow_list. */
export function explicitNodeIds(config: Config, records: readonly TrustRecord[]): Set<string> {
  return new Set([
    ...config.peers.map((p) => nodeIdOf(p.public_key)),
    ...records.filter((r) => r.source === 'paired').map((r) => r.nodeId),
    ...config.trust.allow_list,
  ]);
}

export function isExplicit(publicKey: string, config: Config, records: readonly TrustRecord[]): boolean {
  return explicitNodeIds(config, records).has(nodeIdOf(publicKey));
}

/** A pin: the node_id first trusted at an underlay address. */
export interface Pin {
  endpoint: string;
  nodeId: string;
}

/**
 * TOFU pins for the engine: each address bound to the node_id first trusted
 * there; a configured peer's address is bound to its configured key, ahead
 * of any record. Only tofu mode has pins.
 */
export function compilePins(config: Config, records: readonly TrustRecord[], configured: readonly { publicKey: string; endpoint?: string }[]): Pin[] {
  if (config.trust.mode !== 'tofu') return [];
  const pins = new Map<string, string>();
  // Only ip:port endpoints are pins (a store from an older version may hold others).
  for (const r of records) if (r.endpoint !== null && parseHostPort(r.endpoint) !== null) pins.set(r.endpoint, r.nodeId);
  for (const p of configured) if (p.endpoint) pins.set(p.endpoint, nodeIdOf(p.publicKey));
  return [...pins].map(([endpoint, nodeId]) => ({ endpoint, nodeId }));
}

/**
 * Trust on first use: the record to store when a session with this peer
 * came up, or null. Only tofu mode pins; a configured or already recorded
 * peer needs none; a session through a relay has no underlay address to
 * pin, so it records nothing.
 */
export function pinOnFirstUse(
  session: { publicKey: string; endpoint: string },
  config: Config,
  recorded: (nodeId: string) => TrustRecord | undefined,
): { publicKey: string; endpoint: string } | null {
  if (config.trust.mode !== 'tofu') return null;
  if (parseHostPort(session.endpoint) === null) return null;
  if (config.peers.some((p) => p.public_key === session.publicKey)) return null;
  if (recorded(nodeIdOf(session.publicKey)) !== undefined) return null;
  return session;
}
