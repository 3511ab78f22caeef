// Every peer the control plane knows of, from wherever it learned it: the
// engine (static and connected peers), the trust store (pinned and paired
// peers, even while absent) and refused attempts. It lists them and turns
// what a user typed (a node_id or a unique prefix) into one peer.

import { PimError } from '../errors.js';
import { matchIdPrefix, nodeIdFromPublicKey } from '../identity/node-id.js';
import { meshIpTextFor, type MeshPrefix } from '../identity/mesh-ip.js';
import type { PeerStatus } from '../native/engine.js';
import type { TrustStore } from '../trust/store.js';
import type { PairFailures } from './failures.js';
import type { RefusedAttempts } from './refused.js';

export interface KnownPeer {
  publicKey: string;
  nodeId: string;
  /** Where it can be reached or was last seen, if known. */
  endpoint: string | null;
}

export class PeerBook {
  constructor(
    readonly trust: TrustStore,
    readonly failures: PairFailures,
    readonly refused: RefusedAttempts,
    /** Nodes LAN discovery heard: key, the address to dial, and when it was last heard (ms since the epoch). */
    private readonly discovered: () => readonly { publicKey: string; address: string; lastSeen: number }[] = () => [],
  ) {}

  /** Peers the engine does not hold, shown as not connected (failed when a failure is recorded). */
  absent(engine: readonly PeerStatus[], prefix: MeshPrefix): PeerStatus[] {
    const present = new Set(engine.map((p) => p.publicKey));
    const out = new Map<string, PeerStatus>();
    const add = (publicKey: string, endpoint: string | null): void => {
      if (present.has(publicKey) || out.has(publicKey)) return;
      out.set(publicKey, {
        publicKey,
        meshIp: meshIpTextFor(nodeIdFromPublicKey(Buffer.from(publicKey, 'hex')), prefix),
        ...(endpoint === null ? {} : { endpoint }),
        state: this.failures.all.has(publicKey) ? 'failed' : 'connecting',
        configured: false,
        rxBytes: 0,
        txBytes: 0,
        gatewayBytes: 0,
      });
    };
    for (const r of this.trust.records) add(r.publicKey, r.endpoint);
    for (const r of this.refused.all) add(r.publicKey, r.source);
    return [...out.values()];
  }

  /** Every peer by node_id, engine first (it knows current endpoints). */
  known(engine: readonly PeerStatus[]): Map<string, KnownPeer> {
    const out = new Map<string, KnownPeer>();
    const add = (publicKey: string, endpoint: string | null): void => {
      const nodeId = nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
      if (!out.has(nodeId)) out.set(nodeId, { publicKey, nodeId, endpoint });
    };
    for (const p of engine) add(p.publicKey, p.endpoint ?? null);
    for (const r of this.trust.records) add(r.publicKey, r.endpoint);
    for (const r of this.refused.all) add(r.publicKey, r.source);
    for (const d of this.discovered()) add(d.publicKey, d.address);
    return out;
  }

  /** The peer a node_id or unique prefix (≥ 8 hex) names; -32010 when none does. */
  resolve(id: string, engine: readonly PeerStatus[]): KnownPeer {
    const known = this.known(engine);
    const m = matchIdPrefix(id, known.keys());
    if ('match' in m) return known.get(m.match)!;
    if (m.error === 'too_short') {
      throw new PimError('invalid_params', `invalid params: '${id}' is too short; give at least 8 hex characters of the node_id`);
    }
    if (m.error === 'ambiguous') {
      throw new PimError('invalid_params', `invalid params: '${id}' matches more than one peer; give more characters`);
    }
    throw new PimError('peer_not_found', `no peer has node_id ${id}`, { hint: 'list peers with `pim peers`' });
  }

  /**
   * How long ago this node last heard of a peer without the engine's help:
   * its latest LAN announcement or refused handshake, else when it was
   * paired or pinned. Undefined when none of them knows it.
   */
  heardMsAgo(publicKey: string, nowMs: number): number | undefined {
    const times = [
      ...this.discovered().filter((d) => d.publicKey === publicKey).map((d) => d.lastSeen),
      ...this.refused.all.filter((r) => r.publicKey === publicKey).map((r) => r.at.getTime()),
      ...this.trust.records.filter((r) => r.publicKey === publicKey).map((r) => Date.parse(r.firstSeen)),
    ];
    return times.length === 0 ? undefined : Math.max(0, nowMs - Math.max(...times));
  }

  /** The public keys LAN discovery heard announced from exactly this ip:port. */
  keysHeardAt(address: string): string[] {
    return [...new Set(this.discovered().filter((d) => d.address === address).map((d) => d.publicKey))];
  }

  /** The trusted peer pinned at `endpoint`, if any (to attribute failures known only by address). */
  pinnedAt(endpoint: string): string | undefined {
    return this.trust.records.find((r) => r.endpoint === endpoint)?.publicKey;
  }
}
