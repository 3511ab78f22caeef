// The roles a node can advertise to the mesh.

export const ROLES = ['gateway'] as const;
export type Role = (typeof ROLES)[number];
