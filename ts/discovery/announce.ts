// The LAN discovery announcement (UDP broadcast, port [discovery] port,
// docs/PROTOCOL.md §8): a hint that a pim node is here. Nothing in it is
// trusted: the Noise handshake proves the key; the node_id must match the
// key or the announcement is dropped as spoofed.
//
//  0  4  magic "PIMD"        40 16  node_id = SHA-256(key)[0..16]
//  4  1  version (1)         56  1  name length n (≤ 64)
//  5  1  flags (bit 0: gateway)  57  n  name (UTF-8)
//  6  2  UDP port (BE)
//  8 32  static public key

import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { Role } from '../routing/roles.js';

const MAGIC = Buffer.from('PIMD');
export const ANNOUNCE_VERSION = 1;
const FLAG_GATEWAY = 0x01;
const MAX_NAME = 64;
const HEADER = 57;

export interface Announcement {
  publicKey: string;
  nodeId: string;
  port: number;
  name: string;
  roles: Role[];
}

export function encodeAnnouncement(a: Omit<Announcement, 'nodeId'>): Buffer {
  const name = Buffer.from(a.name, 'utf8').subarray(0, MAX_NAME);
  const key = Buffer.from(a.publicKey, 'hex');
  const out = Buffer.alloc(HEADER + name.length);
  MAGIC.copy(out, 0);
  out[4] = ANNOUNCE_VERSION;
  out[5] = a.roles.includes('gateway') ? FLAG_GATEWAY : 0;
  out.writeUInt16BE(a.port, 6);
  key.copy(out, 8);
  Buffer.from(nodeIdFromPublicKey(key), 'hex').copy(out, 40);
  out[56] = name.length;
  name.copy(out, HEADER);
  return out;
}

export type Decoded = { ok: true; announcement: Announcement } | { ok: false; reason: 'malformed' | 'spoofed' };

export function decodeAnnouncement(buf: Buffer): Decoded {
  if (buf.length < HEADER || !buf.subarray(0, 4).equals(MAGIC) || buf[4] !== ANNOUNCE_VERSION) return { ok: false, reason: 'malformed' };
  const nameLen = buf[56]!;
  if (nameLen > MAX_NAME || buf.length !== HEADER + nameLen) return { ok: false, reason: 'malformed' };
  const port = buf.readUInt16BE(6);
  if (port === 0) return { ok: false, reason: 'malformed' };
  const key = buf.subarray(8, 40);
  const nodeId = nodeIdFromPublicKey(key);
  if (nodeId !== buf.subarray(40, 56).toString('hex')) return { ok: false, reason: 'spoofed' };
  const name = buf.subarray(HEADER).toString('utf8');
  return {
    ok: true,
    announcement: { publicKey: key.toString('hex'), nodeId, port, name, roles: buf[5]! & FLAG_GATEWAY ? ['gateway'] : [] },
  };
}
