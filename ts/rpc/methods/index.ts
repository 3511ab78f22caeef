// The daemon's method table: one file per area, joined here.

import type { Daemon } from '../../daemon/daemon.js';
import type { MethodTable } from '../dispatch.js';
import { daemonMethods } from './daemon.js';
import { peerMethods } from './peers.js';
import { statusMethods } from './status.js';

export function buildMethods(d: Daemon): MethodTable {
  return { ...statusMethods(d), ...peerMethods(d), ...daemonMethods(d) };
}
