// What the daemon does with each engine event: the pairing-failure record,
// the trust store's bookkeeping, and a domain event (logged and published by
// its subscribers) with the exact `pair_failed` reasons of the security model.

import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import type { EngineEvent } from '../native/engine.js';
import type { PairFailedReason, PairFailures } from '../peers/failures.js';
import type { PeerView } from '../peers/view.js';
import type { EventPeer, EventSink } from './events.js';

export interface EventTargets {
  events: EventSink;
  /** For facts that are only logged (a mesh-IP conflict). */
  log: Logger;
  failures: PairFailures;
  /** The known peer whose endpoint (or TOFU pin) is `source`, if any (for failures known by address). */
  peerAt(source: string): string | undefined;
  /** A session came up: the place to record a TOFU pin. */
  onConnected(publicKey: string, endpoint: string): void;
  /** A peer's session is down, or it is no longer trusted (its routes go with it). */
  onDisconnected(publicKey: string): void;
  /** The reply to a probe someone asked for (`peers.ping`). */
  onProbeReply(publicKey: string, rttMs: number): void;
  /** A neighbour's advertisement (roles, routes) arrived. */
  onControl(publicKey: string, payload: Buffer): void;
  /** The trust policy refused this key: remember it so `pim peers pair` can trust it. */
  onRefused(publicKey: string, source: string): void;
  /** The peer's current view, when the daemon lists it. */
  viewOf(publicKey: string): PeerView | undefined;
  /** The data plane cannot go on; the daemon must stop. */
  fatal(message: string): void;
}

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

/** Every engine event kind is handled: a new one fails to compile here. */
function unreachable(e: never): never {
  throw new Error(`unhandled engine event ${JSON.stringify(e)}`);
}

/** The peer as events describe it: its view when listed, else what the engine said. */
function peerOf(t: EventTargets, publicKey: string | null, endpoint: string | null): EventPeer {
  const view = publicKey === null ? undefined : t.viewOf(publicKey);
  return view ? { view } : { publicKey, endpoint };
}

export function handleEngineEvent(e: EngineEvent, t: EventTargets, now: Date = new Date()): void {
  switch (e.kind) {
    case 'connected':
      t.failures.clear(e.publicKey);
      t.onConnected(e.publicKey, e.endpoint);
      t.events.emit({ type: 'peer_connected', peer: peerOf(t, e.publicKey, null), endpoint: e.endpoint, meshIp: e.meshIp });
      return;
    case 'disconnected':
      t.onDisconnected(e.publicKey);
      t.events.emit({ type: 'peer_disconnected', peer: peerOf(t, e.publicKey, null) });
      return;
    case 'endpoint_changed':
      t.events.emit({ type: 'peer_roamed', peer: peerOf(t, e.publicKey, null), endpoint: e.endpoint });
      return;
    case 'handshake_timeout':
      return pairFailed(t, e.publicKey, null, 'timeout', now);
    case 'untrusted': {
      t.onRefused(e.publicKey, e.source);
      // TOFU: the peer pinned at this address is the one whose identity changed.
      const pinned = t.peerAt(e.source);
      if (pinned !== undefined && pinned !== e.publicKey) t.failures.record(pinned, 'untrusted peer ID', now);
      return pairFailed(t, e.publicKey, e.source, 'untrusted peer ID', now);
    }
    case 'handshake_rejected': {
      const known = t.peerAt(e.source);
      return pairFailed(t, known ?? null, e.source, 'noise handshake rejected', now);
    }
    case 'mesh_ip_conflict':
      t.log.error(
        { event: 'mesh_ip_conflict', peer_id: nodeId(e.publicKey), mesh_ip: e.meshIp },
        `peer claims mesh IP ${e.meshIp}, which is outside the mesh prefix or already in use; set [interface] address on one of the nodes`,
      );
      return;
    case 'control':
      t.onControl(e.publicKey, e.payload);
      return;
    case 'revoked':
      t.onDisconnected(e.publicKey);
      t.events.emit({ type: 'peer_revoked', peer: peerOf(t, e.publicKey, null) });
      return;
    case 'probe_reply':
      t.onProbeReply(e.publicKey, e.rttMs);
      return;
    case 'limit_reached':
      t.log.warn({ event: 'limit_reached', limit: e.limit }, `a bound against floods refused something: ${e.detail}`);
      return;
    case 'fault':
      t.fatal(e.message);
      return;
    default:
      return unreachable(e);
  }
}

function pairFailed(t: EventTargets, publicKey: string | null, endpoint: string | null, reason: PairFailedReason, now: Date): void {
  if (publicKey !== null) t.failures.record(publicKey, reason, now);
  t.events.emit({ type: 'pair_failed', peer: peerOf(t, publicKey, endpoint), endpoint, reason });
}
