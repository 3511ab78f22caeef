// The user's explicit trust decisions: `pim peers pair` trusts a peer for
// good (persisted) and connects to it; `pim peers forget` drops a peer's
// trust record (its TOFU pin) and session so it can pair again from a clean
// slate. Each is one policy change: the record changes in memory, the engine
// accepts the new snapshot, and only then is the store written; a change
// the engine refuses, or a store that cannot be written, leaves everything
// as it was.

import { PimError } from '../errors.js';
import { isLowOrderPublicKey } from '../identity/low-order.js';
import type { Config } from '../config/schema.js';
import { nodeIdFromPublicKey, shortId } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import type { Engine, PeerStatus } from '../native/engine.js';
import { parseHostPort } from '../net/ipv4.js';
import type { KnownPeer } from '../peers/book.js';
import type { PairFailures } from '../peers/failures.js';
import type { RefusedAttempts } from '../peers/refused.js';
import type { PolicyPort } from '../daemon/policy.js';
import { pinOnFirstUse } from './policy.js';
import type { TrustStore } from './store.js';

export interface PairingDeps {
  store: TrustStore;
  refused: RefusedAttempts;
  failures: PairFailures;
  engine: Pick<Engine, 'forgetPeer' | 'peers'>;
  /** The peer a node_id or unique prefix names (-32010 when none). */
  resolve(id: string, engine: readonly PeerStatus[]): KnownPeer;
  policy: PolicyPort;
  log: Logger;
}

const ipOf = (endpoint: string | null): string | null => (endpoint === null ? null : (parseHostPort(endpoint)?.host ?? null));

export class Pairing {
  constructor(private readonly d: PairingDeps) {}

  async forget(id: string): Promise<void> {
    const engine = this.d.engine.peers();
    const peer = this.d.resolve(id, engine);
    const record = this.d.store.get(peer.nodeId);
    const session = engine.some((p) => p.publicKey === peer.publicKey);
    if (record === undefined && !session) {
      throw new PimError('peer_not_found', `${shortId(peer.nodeId)} has no pin, pairing or session to forget`, {
        hint: this.nothingToForgetHint(peer),
      });
    }
    await this.commit(() => {
      this.d.store.forget(peer.nodeId);
      this.d.refused.forget(peer.publicKey);
      this.d.failures.clear(peer.publicKey);
      this.d.engine.forgetPeer(peer.publicKey);
    });
    this.d.log.info({ event: 'peer_forgotten', peer_id: peer.nodeId }, `forgot ${shortId(peer.nodeId)}: its pin and session are gone`);
  }

  /** Returns the paired peer's node_id. */
  async pair(id: string): Promise<string> {
    const peer = this.d.resolve(id, this.d.engine.peers());
    if (isLowOrderPublicKey(Buffer.from(peer.publicKey, 'hex'))) {
      throw new PimError('invalid_params', `${shortId(peer.nodeId)} announces a low-order public key that no real node has; not paired`);
    }
    // Only an underlay address is kept: a peer reached through relays is found again by its routes.
    const endpoint = ipOf(peer.endpoint) === null ? null : peer.endpoint;
    await this.commit(() => {
      // Pairing replaces whatever identity was pinned at that address.
      for (const displaced of this.d.store.records.filter((r) => r.nodeId !== peer.nodeId && ipOf(r.endpoint) !== null && ipOf(r.endpoint) === ipOf(endpoint))) {
        this.d.store.forget(displaced.nodeId);
        this.d.engine.forgetPeer(displaced.publicKey);
      }
      this.d.store.set(peer.publicKey, endpoint, 'paired', new Date());
      this.d.refused.forget(peer.publicKey);
      this.d.failures.clear(peer.publicKey);
    });
    this.d.log.info({ event: 'peer_paired', peer_id: peer.nodeId, endpoint }, `paired with ${shortId(peer.nodeId)}`);
    return peer.nodeId;
  }

  /**
   * Trust on first use: a session came up with a peer nobody named; pin its
   * node_id to its address (trust/policy.ts decides whether it needs one).
   */
  async recordFirstUse(session: { publicKey: string; endpoint: string }, config: Config): Promise<void> {
    const pin = pinOnFirstUse(session, config, (id) => this.d.store.get(id));
    if (pin === null) return;
    const nodeId = nodeIdFromPublicKey(Buffer.from(pin.publicKey, 'hex'));
    await this.commit(() => void this.d.store.set(pin.publicKey, pin.endpoint, 'tofu', new Date()));
    this.d.log.info({ event: 'peer_pinned', peer_id: nodeId, endpoint: pin.endpoint }, `trusted ${nodeId} on first use at ${pin.endpoint}`);
  }

  /** Applies a change of records; writes the store only once the engine took it, and undoes it if either fails. */
  private async commit(change: () => void): Promise<void> {
    const restore = this.d.store.checkpoint();
    await this.d.policy.apply(change, restore);
    try {
      await this.d.store.save();
    } catch (err) {
      restore();
      this.d.policy.refresh();
      throw new PimError('io_failed', `cannot write the trust store ${this.d.store.file}: ${(err as Error).message}; nothing changed`, { cause: err });
    }
  }

  private nothingToForgetHint(peer: KnownPeer): string {
    const ip = ipOf(peer.endpoint);
    const pinned = ip === null ? undefined : this.d.store.records.find((r) => r.nodeId !== peer.nodeId && ipOf(r.endpoint) === ip);
    if (pinned) return `it was refused because ${shortId(pinned.nodeId)} is pinned at ${ip}: \`pim peers forget ${shortId(pinned.nodeId)}\` if that node's identity really changed, or \`pim peers pair ${shortId(peer.nodeId)}\` to trust it`;
    return `to trust it, \`pim peers pair ${shortId(peer.nodeId)}\``;
  }
}
