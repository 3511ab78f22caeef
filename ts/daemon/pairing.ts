// `peers.forget` and `peers.pair`: the user's explicit trust decisions.
// Forget drops a peer's trust record (its TOFU pin) and its session so it
// can pair again from a clean slate; pair trusts a peer for good (persisted)
// and connects to it.

import { shortId } from '../identity/node-id.js';
import type { Daemon } from './daemon.js';

export async function forgetPeer(d: Daemon, id: string): Promise<{ forgot_identity: true }> {
  const peer = d.book.resolve(id, d.engine.peers());
  await d.applyPolicy(async () => {
    if (d.book.trust.forget(peer.nodeId)) await d.book.trust.save();
    d.book.refused.forget(peer.publicKey);
    d.failures.clear(peer.publicKey);
    d.engine.forgetPeer(peer.publicKey);
  });
  d.logger.info({ event: 'peer_forgotten', peer_id: peer.nodeId }, `forgot ${shortId(peer.nodeId)}: its pin and session are gone`);
  return { forgot_identity: true };
}

export async function pairPeer(d: Daemon, id: string): Promise<{ node_id: string; state: string }> {
  const peer = d.book.resolve(id, d.engine.peers());
  await d.applyPolicy(async () => {
    // Pairing replaces whatever identity was pinned at that address.
    const displaced = peer.endpoint === null ? undefined : d.book.trust.records.find((r) => r.endpoint === peer.endpoint && r.nodeId !== peer.nodeId);
    if (displaced) {
      d.book.trust.forget(displaced.nodeId);
      d.engine.forgetPeer(displaced.publicKey);
    }
    d.book.trust.set(peer.publicKey, peer.endpoint, 'paired', new Date());
    await d.book.trust.save();
    d.book.refused.forget(peer.publicKey);
    d.failures.clear(peer.publicKey);
  });
  d.logger.info({ event: 'peer_paired', peer_id: peer.nodeId, endpoint: peer.endpoint }, `paired with ${shortId(peer.nodeId)}`);
  const state = d.engine.peers().find((p) => p.publicKey === peer.publicKey)?.state ?? 'connecting';
  return { node_id: peer.nodeId, state };
}
