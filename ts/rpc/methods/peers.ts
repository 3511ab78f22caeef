// peers.*: the peer list, static peers in the config file, and the user's
// explicit trust decisions (pair, forget).

import { PimError } from '../../errors.js';
import type { PeerView } from '../../peers/view.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { peerSummary } from '../wire.js';

export interface PeerMethodDeps {
  peers(): PeerView[];
  /** -32012 unless the address is host:port. */
  checkAddress(address: string): void;
  /** The public keys LAN discovery heard announced from exactly this ip:port. */
  keysHeardAt(address: string): string[];
  addStatic(peer: { address: string; publicKey: string; label?: string | undefined }): Promise<{ nodeId: string; configEntryId: string }>;
  removeStatic(ref: { nodeId?: string | undefined; configEntryId?: string | undefined }): Promise<void>;
  /** Pairs and answers the peer's view afterwards. */
  pair(id: string): Promise<PeerView>;
  forget(id: string): Promise<void>;
  /** One probe through the tunnel: the peer's view, its next hop's node_id if relayed, and the round trip (null: no reply in time). */
  ping(id: string, timeoutMs: number): Promise<{ view: PeerView; viaNodeId: string | null; rttMs: number | null }>;
}

/** The longest a ping may wait for its reply. */
const MAX_PING_TIMEOUT_MS = 10_000;

/** The key to add a peer with: the one given, else the one node LAN discovery heard at that address. */
function keyFor(d: PeerMethodDeps, address: string, given: string | undefined): string {
  if (given !== undefined) return given;
  d.checkAddress(address);
  const heard = d.keysHeardAt(address);
  if (heard.length === 1) return heard[0]!;
  throw new PimError(
    'peer_key_unknown',
    heard.length === 0
      ? `no public_key given, and LAN discovery has heard no node at ${address}: give the peer's public key`
      : `no public_key given, and LAN discovery heard ${heard.length} different nodes at ${address}: give the peer's public key`,
  );
}

export function peerMethods(d: PeerMethodDeps): MethodTable {
  return {
    'peers.list': defineMethod({}, () => d.peers().map(peerSummary)),
    'peers.add_static': defineMethod(
      {
        address: { type: 'string' },
        public_key: { type: 'string', optional: true },
        mechanism: { type: 'string', optional: true },
        label: { type: 'string', optional: true },
      },
      async ({ address, public_key, mechanism, label }) => {
        // pim-ui's "tcp" is its name for an IP host:port; pim reaches that over UDP.
        if (mechanism !== undefined && mechanism !== 'tcp') {
          throw new PimError('invalid_params', `invalid params: 'mechanism' must be "tcp" (pim reaches peers at an IP host:port, over UDP)`);
        }
        const added = await d.addStatic({ address, publicKey: keyFor(d, address, public_key), label });
        return { node_id: added.nodeId, config_entry_id: added.configEntryId };
      },
    ),
    'peers.remove': defineMethod({ node_id: { type: 'string', optional: true }, config_entry_id: { type: 'string', optional: true } }, async (p) => {
      await d.removeStatic({ nodeId: p.node_id, configEntryId: p.config_entry_id });
      return null;
    }),
    // pim keeps no messages, so there are never any to delete with the identity.
    'peers.forget': defineMethod({ node_id: { type: 'string' }, also_delete_messages: { type: 'boolean', optional: true } }, async ({ node_id }) => {
      await d.forget(node_id);
      return { forgot_identity: true, deleted_messages: 0, deleted_conversation: false };
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
      return peerSummary(await d.pair(node_id));
    }),
  };
}
