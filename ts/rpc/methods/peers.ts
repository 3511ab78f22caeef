import type { Daemon } from '../../daemon/daemon.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { peerSummary } from '../wire.js';

export function peerMethods(d: Daemon): MethodTable {
  return {
    'peers.list': defineMethod({}, () => d.peers().map(peerSummary)),
  };
}
