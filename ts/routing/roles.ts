// Which peers currently advertise which roles. An advertisement holds for
// ROLE_TTL_MS: peers re-advertise every ADVERT_INTERVAL_MS, so a peer that
// stops (or stops being a gateway) drops out after a few missed rounds.
// Pure: the clock is passed in.

import type { Role } from './adverts.js';

export const ADVERT_INTERVAL_MS = 10_000;
export const ROLE_TTL_MS = 35_000;

export class PeerRoles {
  private readonly byKey = new Map<string, { roles: readonly Role[]; at: number }>();

  set(publicKey: string, roles: readonly Role[], nowMs: number): void {
    this.byKey.set(publicKey, { roles, at: nowMs });
  }

  forget(publicKey: string): void {
    this.byKey.delete(publicKey);
  }

  has(publicKey: string, role: Role, nowMs: number): boolean {
    const r = this.byKey.get(publicKey);
    return r !== undefined && nowMs - r.at < ROLE_TTL_MS && r.roles.includes(role);
  }
}
