// pim extensions to interface.md §4: daemon.stop (what `pim down` uses, so
// stopping needs no signal permissions and waits for a real cleanup) and
// daemon.metrics (the daemon process's event-loop delay and memory).

import type { Daemon } from '../../daemon/daemon.js';
import { defineMethod, type MethodTable } from '../dispatch.js';

export function daemonMethods(d: Daemon): MethodTable {
  return {
    'daemon.metrics': defineMethod({ reset: { type: 'boolean', optional: true } }, ({ reset }) => d.runtime.read(reset ?? false)),
    'daemon.stop': defineMethod({}, () => {
      d.requestStop();
      return { stopping: true };
    }),
  };
}
