// The advertisement a node sends its peers inside their sessions (control
// payload 0x03, docs/PROTOCOL.md §3.3): for now its roles. JSON, validated
// strictly on receipt: it comes from an authenticated peer, but still from
// another machine.

export const ADVERT_VERSION = 1;
export const ROLES = ['gateway'] as const;
export type Role = (typeof ROLES)[number];

export interface Advert {
  roles: Role[];
}

export function encodeAdvert(a: Advert): Buffer {
  return Buffer.from(JSON.stringify({ v: ADVERT_VERSION, roles: a.roles }));
}

/** The advertisement, or null when it is not one pim understands. Unknown roles are ignored. */
export function decodeAdvert(payload: Buffer): Advert | null {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  const d = doc as { v?: unknown; roles?: unknown };
  if (typeof doc !== 'object' || doc === null || d.v !== ADVERT_VERSION || !Array.isArray(d.roles)) return null;
  const roles = d.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r));
  return { roles: [...new Set(roles)] };
}
