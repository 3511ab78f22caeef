// What the daemon does with each engine event: a log line, the pairing
// failure record, and a `peers.event` notification with the exact
// `pair_failed` reasons of the security model.

import type { Logger } from '../log/logger.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { EngineEvent } from '../native/engine.js';
import type { PairFailedReason, PairFailures } from '../peers/failures.js';

export interface EventTargets {
  logger: Logger;
  failures: PairFailures;
  /** The known peer whose endpoint (or TOFU pin) is `source`, if any (for failures known by address). */
  peerAt(source: string): string | undefined;
  /** A session came up: the place to record a TOFU pin. */
  onConnected(publicKey: string, endpoint: string): void;
  /** A peer's session is down (its routes go with it). */
  onDisconnected(publicKey: string): void;
  /** A neighbour's advertisement (roles, routes) arrived. */
  onControl(publicKey: string, payload: Buffer): void;
  /** The trust policy refused this key: remember it so `pim peers pair` can trust it. */
  onRefused(publicKey: string, source: string): void;
  /** Publishes `peers.event` with the peer's summary (or what is known of it). */
  publishPeerEvent(kind: 'connected' | 'disconnected' | 'state_changed' | 'pair_failed', peer: { publicKey?: string; endpoint?: string }, reason?: PairFailedReason): void;
  /** The data plane cannot go on; the daemon must stop. */
  fatal(message: string): void;
}

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

export function handleEngineEvent(e: EngineEvent, t: EventTargets, now: Date = new Date()): void {
  switch (e.kind) {
    case 'connected':
      t.failures.clear(e.publicKey);
      t.onConnected(e.publicKey, e.endpoint);
      t.logger.info({ event: 'peer_connected', peer_id: nodeId(e.publicKey), endpoint: e.endpoint, mesh_ip: e.meshIp }, 'peer connected');
      t.publishPeerEvent('connected', { publicKey: e.publicKey });
      return;
    case 'disconnected':
      t.onDisconnected(e.publicKey);
      t.logger.warn({ event: 'peer_disconnected', peer_id: nodeId(e.publicKey) }, 'peer stopped answering; reconnecting');
      t.publishPeerEvent('disconnected', { publicKey: e.publicKey });
      return;
    case 'endpoint_changed':
      t.logger.info({ event: 'peer_roamed', peer_id: nodeId(e.publicKey), endpoint: e.endpoint }, 'peer endpoint changed');
      t.publishPeerEvent('state_changed', { publicKey: e.publicKey });
      return;
    case 'handshake_timeout':
      return pairFailed(t, { publicKey: e.publicKey }, 'timeout', now);
    case 'untrusted': {
      t.onRefused(e.publicKey, e.source);
      // TOFU: the peer pinned at this address is the one whose identity changed.
      const pinned = t.peerAt(e.source);
      if (pinned !== undefined && pinned !== e.publicKey) t.failures.record(pinned, 'untrusted peer ID', now);
      return pairFailed(t, { publicKey: e.publicKey, endpoint: e.source }, 'untrusted peer ID', now);
    }
    case 'handshake_rejected': {
      const known = t.peerAt(e.source);
      return pairFailed(t, known === undefined ? { endpoint: e.source } : { publicKey: known, endpoint: e.source }, 'noise handshake rejected', now);
    }
    case 'mesh_ip_conflict':
      t.logger.error(
        { event: 'mesh_ip_conflict', peer_id: nodeId(e.publicKey), mesh_ip: e.meshIp },
        `peer claims mesh IP ${e.meshIp}, which is outside the mesh prefix or already in use; set [interface] address on one of the nodes`,
      );
      return;
    case 'control':
      t.onControl(e.publicKey, e.payload);
      return;
    case 'fault':
      t.fatal(e.message);
      return;
  }
}

function pairFailed(t: EventTargets, peer: { publicKey?: string; endpoint?: string }, reason: PairFailedReason, now: Date): void {
  if (peer.publicKey !== undefined) t.failures.record(peer.publicKey, reason, now);
  const fields = {
    event: 'pair_failed',
    reason,
    ...(peer.publicKey === undefined ? {} : { peer_id: nodeId(peer.publicKey) }),
    ...(peer.endpoint === undefined ? {} : { endpoint: peer.endpoint }),
  };
  t.logger.warn(fields, `pairing failed: ${reason}`);
  t.publishPeerEvent('pair_failed', peer, reason);
}
