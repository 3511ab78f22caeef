// The daemon's method table: one file per area, joined here. The daemon
// assembles the deps (daemon/methods.ts); each group sees only its own.

import type { MethodTable } from '../dispatch.js';
import { configMethods, type ConfigMethodDeps } from './config.js';
import { daemonMethods, type DaemonMethodDeps } from './daemon.js';
import { peerMethods, type PeerMethodDeps } from './peers.js';
import { routeMethods, type RouteMethodDeps } from './routes.js';
import { statusMethods, type StatusMethodDeps } from './status.js';
import { subscriptionMethods, type SubscriptionMethodDeps } from './subscriptions.js';

export interface MethodDeps {
  status: StatusMethodDeps;
  peers: PeerMethodDeps;
  config: ConfigMethodDeps;
  routes: RouteMethodDeps;
  subscriptions: SubscriptionMethodDeps;
  daemon: DaemonMethodDeps;
}

export function buildMethods(d: MethodDeps): MethodTable {
  return {
    ...statusMethods(d.status),
    ...peerMethods(d.peers),
    ...configMethods(d.config),
    ...routeMethods(d.routes),
    ...subscriptionMethods(d.subscriptions),
    ...daemonMethods(d.daemon),
  };
}
