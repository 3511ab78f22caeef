// pim extensions to the control-socket contract (docs/RPC.md): daemon.stop (what `pim down` uses, so
// stopping needs no signal permissions and waits for a real cleanup) and
// daemon.metrics (the daemon process's event-loop delay and memory).

import { defineMethod, type MethodTable } from '../dispatch.js';

export interface DaemonMethodDeps {
  metrics(reset: boolean): unknown;
  /** Answers first, then stops. */
  requestStop(): void;
}

export function daemonMethods(d: DaemonMethodDeps): MethodTable {
  return {
    'daemon.metrics': defineMethod({ reset: { type: 'boolean', optional: true } }, ({ reset }) => d.metrics(reset ?? false)),
    'daemon.stop': defineMethod({}, () => {
      d.requestStop();
      return { stopping: true };
    }),
  };
}
