import { defineMethod, type MethodTable } from '../dispatch.js';
import { status, type StatusView } from '../wire.js';

export interface StatusMethodDeps {
  status(): StatusView;
}

export function statusMethods(d: StatusMethodDeps): MethodTable {
  return {
    status: defineMethod({}, () => status(d.status())),
  };
}
