// The roles this node plays in the mesh, as `status.role` and the
// `role_changed` event report them (pim-ui's names):
//   client  always: every node reaches the mesh through its own sessions;
//   relay   while its working routes go through two or more different
//           neighbours: it then offers each neighbour the others' side,
//           and the engine forwards for whoever takes that path;
//   gateway while the gateway role is on.

import type { Route } from '../routing/distance-vector.js';

export type NodeRole = 'client' | 'relay' | 'gateway';

export function nodeRoles(gateway: boolean, reachable: readonly Route[]): NodeRole[] {
  const nextHops = new Set(reachable.map((r) => r.via));
  return ['client', ...(nextHops.size >= 2 ? ['relay' as const] : []), ...(gateway ? ['gateway' as const] : [])];
}

/** Reports the roles (`role_changed`) when they differ from the ones last reported. */
export class RoleWatch {
  private last: string;

  constructor(
    private readonly current: () => NodeRole[],
    private readonly changed: (roles: NodeRole[]) => void,
  ) {
    this.last = current().join();
  }

  /** Something a role depends on changed (the gateway role, the routing table). */
  check(): void {
    const roles = this.current();
    if (roles.join() === this.last) return;
    this.last = roles.join();
    this.changed(roles);
  }
}
