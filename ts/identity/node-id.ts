import { createHash } from 'node:crypto';

// The node_id is what users see and type; the public key is what the Noise
// handshake proves. Tying one to the other with a hash means a peer cannot
// claim a node_id without holding the matching private key.

export const NODE_ID_HEX_LEN = 32;
export const SHORT_ID_LEN = 8;
/** The shortest node_id prefix the CLI accepts (same as a short id). */
export const MIN_ID_PREFIX_LEN = SHORT_ID_LEN;

const NODE_ID = /^[0-9a-f]{32}$/;
const PUBLIC_KEY_HEX = /^[0-9a-f]{64}$/;

export type IdPrefixMatch = { match: string } | { error: 'none' | 'ambiguous' | 'too_short' };

/** First 16 bytes of SHA-256(public key), as 32 lowercase hex characters. */
export function nodeIdFromPublicKey(pub: Buffer): string {
  if (pub.length !== 32) throw new RangeError(`an X25519 public key is 32 bytes, got ${pub.length}`);
  return createHash('sha256').update(pub).digest().subarray(0, 16).toString('hex');
}

export function shortId(nodeId: string): string {
  return nodeId.slice(0, SHORT_ID_LEN);
}

export function isNodeId(s: string): boolean {
  return NODE_ID.test(s);
}

/** 64 lowercase hex characters → 32 bytes, or null. */
export function parsePublicKeyHex(s: string): Buffer | null {
  return PUBLIC_KEY_HEX.test(s) ? Buffer.from(s, 'hex') : null;
}

/**
 * Resolves what a user typed (a short id or any longer prefix of a node_id,
 * any case) against the known node_ids.
 */
export function matchIdPrefix(prefix: string, nodeIds: Iterable<string>): IdPrefixMatch {
  const wanted = prefix.toLowerCase();
  if (wanted.length < MIN_ID_PREFIX_LEN) return { error: 'too_short' };
  // The same node may be known twice (say, as a static and a discovered peer);
  // that is one match, not an ambiguity.
  const matches = new Set<string>();
  for (const id of nodeIds) {
    if (id.startsWith(wanted)) matches.add(id);
  }
  if (matches.size === 0) return { error: 'none' };
  if (matches.size > 1) return { error: 'ambiguous' };
  const [match] = matches;
  return { match: match! };
}
