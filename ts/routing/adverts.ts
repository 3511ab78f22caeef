// The advertisement a node sends each neighbour inside their session
// (control payload 0x03, docs/PROTOCOL.md §5.7): its own roles and mesh IP,
// and its routes (distance-vector). JSON, validated strictly on receipt: it
// comes from an authenticated neighbour, but still from another machine.
// A table too big for one message is split; every message stands alone.

import { parseIpv4 } from '../net/ipv4.js';
import { INFINITY, type AdvertEntry } from './distance-vector.js';
import { ROLES, type Role } from './roles.js';

export { ROLES, type Role };

export const ADVERT_VERSION = 1;
/** The data plane carries advertisements of at most 1024 bytes. */
export const MAX_ADVERT_BYTES = 1024;

export interface Advert {
  roles: Role[];
  ip: string;
  routes: AdvertEntry[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function roleList(raw: unknown): Role[] {
  if (!Array.isArray(raw)) return [];
  return [...new Set(raw.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r)))];
}

const wire = (e: AdvertEntry): Record<string, unknown> => ({ k: e.key, h: e.hops, r: e.roles, ip: e.ip });

/** One or more messages, each under MAX_ADVERT_BYTES, together carrying every route. */
export function encodeAdverts(a: Advert): Buffer[] {
  const head = { v: ADVERT_VERSION, roles: a.roles, ip: a.ip };
  const out: Buffer[] = [];
  let batch: Record<string, unknown>[] = [];
  const flush = (): void => {
    out.push(Buffer.from(JSON.stringify({ ...head, routes: batch })));
    batch = [];
  };
  for (const e of a.routes) {
    const next = [...batch, wire(e)];
    if (batch.length > 0 && Buffer.byteLength(JSON.stringify({ ...head, routes: next })) > MAX_ADVERT_BYTES) flush();
    batch.push(wire(e));
  }
  flush();
  return out;
}

/** The advertisement, or null when it is not one pim understands. Unknown roles and bad entries are ignored. */
export function decodeAdvert(payload: Buffer): Advert | null {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  const d = doc as { v?: unknown; roles?: unknown; ip?: unknown; routes?: unknown };
  if (typeof doc !== 'object' || doc === null || d.v !== ADVERT_VERSION || !Array.isArray(d.roles)) return null;
  if (typeof d.ip !== 'string' || parseIpv4(d.ip) === null) return null;
  const routes: AdvertEntry[] = [];
  for (const raw of Array.isArray(d.routes) ? d.routes : []) {
    const e = raw as { k?: unknown; h?: unknown; r?: unknown; ip?: unknown };
    if (typeof e !== 'object' || e === null || typeof e.k !== 'string' || !HEX64.test(e.k)) continue;
    if (typeof e.h !== 'number' || !Number.isInteger(e.h) || e.h < 0) continue;
    if (typeof e.ip !== 'string' || parseIpv4(e.ip) === null) continue;
    routes.push({ key: e.k, hops: Math.min(e.h, INFINITY), roles: roleList(e.r), ip: e.ip });
  }
  return { roles: roleList(d.roles), ip: d.ip, routes };
}
