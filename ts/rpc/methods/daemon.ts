// daemon.stop: a pim extension to interface.md §4 that `pim down` uses, so
// stopping needs no signal permissions and waits for a real cleanup.

import type { Daemon } from '../../daemon/daemon.js';
import { defineMethod, type MethodTable } from '../dispatch.js';

export function daemonMethods(d: Daemon): MethodTable {
  return {
    'daemon.stop': defineMethod({}, () => {
      d.requestStop();
      return { stopping: true };
    }),
  };
}
