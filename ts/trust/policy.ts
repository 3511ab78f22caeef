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
import { parseHostPort, parseIpv4 } from '../net/ipv4.js';
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

/** A pin: the node_id first trusted at an underlay IP address. */
export interface Pin {
  ip: string;
  nodeId: string;
}

/** The IP address of an `ip:port` endpoint; undefined for a name, a relay or anything else. */
function ipOf(endpoint: string | null | undefined): string | undefined {
  const host = endpoint ? parseHostPort(endpoint)?.host : undefined;
  return host !== undefined && parseIpv4(host) !== null ? host : undefined;
}

/**
 * TOFU pins for the engine: each IP address bound to the node_id first
 * trusted there (the port does not matter: a new source port must not get
 * around a pin); a configured peer's address is bound to its configured key,
 * ahead of any record. Only tofu mode has pins.
 */
export function compilePins(config: Config, records: readonly TrustRecord[], configured: readonly { publicKey: string; endpoint?: string | undefined }[]): Pin[] {
  if (config.trust.mode !== 'tofu') return [];
  const pins = new Map<string, string>();
  for (const r of records) {
    const ip = ipOf(r.endpoint);
    if (ip !== undefined) pins.set(ip, r.nodeId);
  }
  for (const p of configured) {
    const ip = ipOf(p.endpoint);
    if (ip !== undefined) pins.set(ip, nodeIdOf(p.publicKey));
  }
  return [...pins].map(([ip, nodeId]) => ({ ip, nodeId }));
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

/** Why a refused peer is refused and what the user can do, for its row in `pim peers`. */
export function refusalAdvice(
  peer: { nodeId: string; endpoint: string | null },
  config: Config,
  records: readonly TrustRecord[],
): { conflictsWith: string | null; hint: string } {
  const short = peer.nodeId.slice(0, 8);
  if (config.trust.mode === 'allow_list') {
    return { conflictsWith: null, hint: `not in [trust] allow_list; \`pim peers pair ${short}\` trusts it` };
  }
  const ip = peer.endpoint === null ? null : (parseHostPort(peer.endpoint)?.host ?? null);
  const pinned = ip === null ? undefined : records.find((r) => r.nodeId !== peer.nodeId && r.endpoint !== null && parseHostPort(r.endpoint)?.host === ip);
  if (pinned === undefined) return { conflictsWith: null, hint: `\`pim peers pair ${short}\` trusts it` };
  const other = pinned.nodeId.slice(0, 8);
  return {
    conflictsWith: pinned.nodeId,
    hint: `${ip} is pinned to ${other}: if ${other}'s identity really changed, \`pim peers forget ${other}\`; otherwise treat this key as a man-in-the-middle attempt`,
  };
}
