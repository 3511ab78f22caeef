import type { Daemon } from '../../daemon/daemon.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { status } from '../wire.js';

export function statusMethods(d: Daemon): MethodTable {
  return {
    status: defineMethod({}, () => status(d.status())),
  };
}
