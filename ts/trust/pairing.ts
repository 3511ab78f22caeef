// The user's explicit trust decisions: `pim peers pair` trusts a peer for
// good (persisted) and connects to it; `pim peers forget` drops a peer's
// trust record (its TOFU pin) and session so it can pair again from a clean
// slate. Each runs as one policy change: the store is written and the
// engine gets the new snapshot before the call answers.

import { shortId } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import type { Engine, PeerStatus } from '../native/engine.js';
import type { KnownPeer } from '../peers/book.js';
import type { PairFailures } from '../peers/failures.js';
import type { RefusedAttempts } from '../peers/refused.js';
import type { TrustStore } from './store.js';

export interface PairingDeps {
  store: TrustStore;
  refused: RefusedAttempts;
  failures: PairFailures;
  engine: Pick<Engine, 'forgetPeer' | 'peers'>;
  /** The peer a node_id or unique prefix names (-32010 when none). */
  resolve(id: string, engine: readonly PeerStatus[]): KnownPeer;
  /** Runs the change as one policy change (see daemon/policy.ts). */
  applyPolicy<T>(change: () => Promise<T>): Promise<T>;
  log: Logger;
}

export class Pairing {
  constructor(private readonly d: PairingDeps) {}

  async forget(id: string): Promise<void> {
    const peer = this.d.resolve(id, this.d.engine.peers());
    await this.d.applyPolicy(async () => {
      if (this.d.store.forget(peer.nodeId)) await this.d.store.save();
      this.d.refused.forget(peer.publicKey);
      this.d.failures.clear(peer.publicKey);
      this.d.engine.forgetPeer(peer.publicKey);
    });
    this.d.log.info({ event: 'peer_forgotten', peer_id: peer.nodeId }, `forgot ${shortId(peer.nodeId)}: its pin and session are gone`);
  }

  async pair(id: string): Promise<{ nodeId: string; state: string }> {
    const peer = this.d.resolve(id, this.d.engine.peers());
    await this.d.applyPolicy(async () => {
      // Pairing replaces whatever identity was pinned at that address.
      const displaced = peer.endpoint === null ? undefined : this.d.store.records.find((r) => r.endpoint === peer.endpoint && r.nodeId !== peer.nodeId);
      if (displaced) {
        this.d.store.forget(displaced.nodeId);
        this.d.engine.forgetPeer(displaced.publicKey);
      }
      this.d.store.set(peer.publicKey, peer.endpoint, 'paired', new Date());
      await this.d.store.save();
      this.d.refused.forget(peer.publicKey);
      this.d.failures.clear(peer.publicKey);
    });
    this.d.log.info({ event: 'peer_paired', peer_id: peer.nodeId, endpoint: peer.endpoint }, `paired with ${shortId(peer.nodeId)}`);
    const state = this.d.engine.peers().find((p) => p.publicKey === peer.publicKey)?.state ?? 'connecting';
    return { nodeId: peer.nodeId, state };
  }
}
