// peers.*: the peer list, static peers in the config file, and the user's
// explicit trust decisions (pair, forget).

import { PimError } from '../../errors.js';
import type { PeerView } from '../../peers/view.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { peerSummary } from '../wire.js';

export interface PeerMethodDeps {
  peers(): PeerView[];
  addStatic(peer: { address: string; publicKey: string; label?: string | undefined }): Promise<{ nodeId: string; configEntryId: string }>;
  removeStatic(ref: { nodeId?: string | undefined; configEntryId?: string | undefined }): Promise<void>;
  pair(id: string): Promise<{ nodeId: string; state: string }>;
  forget(id: string): Promise<void>;
  /** One probe through the tunnel: the peer's view, its next hop's node_id if relayed, and the round trip (null: no reply in time). */
  ping(id: string, timeoutMs: number): Promise<{ view: PeerView; viaNodeId: string | null; rttMs: number | null }>;
}

/** The longest a ping may wait for its reply. */
const MAX_PING_TIMEOUT_MS = 10_000;

export function peerMethods(d: PeerMethodDeps): MethodTable {
  return {
    'peers.list': defineMethod({}, () => d.peers().map(peerSummary)),
    'peers.add_static': defineMethod(
      { address: { type: 'string' }, public_key: { type: 'string' }, label: { type: 'string', optional: true } },
      async ({ address, public_key, label }) => {
        const added = await d.addStatic({ address, publicKey: public_key, label });
        return { node_id: added.nodeId, config_entry_id: added.configEntryId };
      },
    ),
    'peers.remove': defineMethod({ node_id: { type: 'string', optional: true }, config_entry_id: { type: 'string', optional: true } }, async (p) => {
      await d.removeStatic({ nodeId: p.node_id, configEntryId: p.config_entry_id });
      return null;
    }),
    'peers.forget': defineMethod({ node_id: { type: 'string' } }, async ({ node_id }) => {
      await d.forget(node_id);
      return { forgot_identity: true };
    }),
    'peers.ping': defineMethod({ node_id: { type: 'string' }, timeout_ms: { type: 'integer', optional: true } }, async ({ node_id, timeout_ms }) => {
      const timeout = timeout_ms ?? 1000;
      if (timeout < 1 || timeout > MAX_PING_TIMEOUT_MS) {
        throw new PimError('invalid_params', `invalid params: 'timeout_ms' must be 1 to ${MAX_PING_TIMEOUT_MS}`);
      }
      const r = await d.ping(node_id, timeout);
      return { node_id: r.view.nodeId, node_id_short: r.view.shortId, mesh_ip: r.view.meshIp, path: r.view.path, via: r.viaNodeId, rtt_ms: r.rttMs };
    }),
    'peers.pair': defineMethod({ node_id: { type: 'string' }, trust: { type: 'string', optional: true } }, async ({ node_id, trust }) => {
      if (trust !== undefined && trust !== 'persist') {
        throw new PimError('invalid_params', `invalid params: 'trust' must be "persist" (pairings are always persisted)`);
      }
      const paired = await d.pair(node_id);
      return { node_id: paired.nodeId, state: paired.state };
    }),
  };
}
