import type { Daemon } from '../../daemon/daemon.js';
import { addStaticPeer, removeStaticPeer } from '../../daemon/config-ops.js';
import { forgetPeer, pairPeer } from '../../daemon/pairing.js';
import { PimError } from '../../errors.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { peerSummary } from '../wire.js';

export function peerMethods(d: Daemon): MethodTable {
  return {
    'peers.list': defineMethod({}, () => d.peers().map(peerSummary)),
    'peers.add_static': defineMethod(
      { address: { type: 'string' }, public_key: { type: 'string' }, label: { type: 'string', optional: true } },
      (p) => addStaticPeer(d, p),
    ),
    'peers.remove': defineMethod({ node_id: { type: 'string', optional: true }, config_entry_id: { type: 'string', optional: true } }, (p) =>
      removeStaticPeer(d, p),
    ),
    'peers.forget': defineMethod({ node_id: { type: 'string' } }, ({ node_id }) => forgetPeer(d, node_id)),
    'peers.pair': defineMethod({ node_id: { type: 'string' }, trust: { type: 'string', optional: true } }, ({ node_id, trust }) => {
      if (trust !== undefined && trust !== 'persist') {
        throw new PimError('invalid_params', `invalid params: 'trust' must be "persist" (pairings are always persisted)`);
      }
      return pairPeer(d, node_id);
    }),
  };
}
