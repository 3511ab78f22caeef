// The daemon's method table: one file per area, joined here.

import type { Daemon } from '../../daemon/daemon.js';
import type { MethodTable } from '../dispatch.js';
import { configMethods } from './config.js';
import { daemonMethods } from './daemon.js';
import { peerMethods } from './peers.js';
import { routeMethods } from './routes.js';
import { statusMethods } from './status.js';
import { subscriptionMethods } from './subscriptions.js';

export function buildMethods(d: Daemon): MethodTable {
  return {
    ...statusMethods(d),
    ...peerMethods(d),
    ...configMethods(d),
    ...routeMethods(d),
    ...subscriptionMethods(d),
    ...daemonMethods(d),
  };
}
