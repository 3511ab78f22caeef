// Domain events as control-socket notifications: which topic each goes to
// and the snake_case payload subscribers receive (docs/RPC.md).

import type { DaemonEvent, EventPeer } from '../daemon/events.js';
import type { Topic } from './events.js';
import { anonymousPeerSummary, discoveredWire, peerSummary, type WireAnonymousPeer, type WirePeerSummary } from './wire.js';

export interface Notification {
  topic: Topic;
  params: Record<string, unknown>;
}

function peerWire(peer: EventPeer): WirePeerSummary | WireAnonymousPeer {
  return 'view' in peer ? peerSummary(peer.view) : anonymousPeerSummary(peer.publicKey, peer.endpoint);
}

const status = (kind: string, detail: Record<string, unknown>): Notification => ({
  topic: 'status',
  params: { kind, detail },
});

/** The notification for an event, without `at` (the publisher stamps it). */
export function notificationFor(e: DaemonEvent, nowMs: number): Notification {
  switch (e.type) {
    case 'interface_up':
    case 'interface_down':
      return status(e.type, { name: e.name });
    case 'route_on':
    case 'route_off':
      return status(e.type, {});
    case 'gateway_selected':
    case 'gateway_lost':
      return status(e.type, { node_id: e.nodeId });
    case 'kill_switch':
      return status('kill_switch', { engaged: e.engaged, ...(e.engaged && e.reason !== null ? { reason: e.reason } : {}) });
    case 'role_changed':
      return status('role_changed', { role: e.roles });
    case 'gateway_enabled':
      return { topic: 'gateway', params: { kind: 'enabled', detail: { nat_interface: e.natInterface } } };
    case 'gateway_disabled':
      return { topic: 'gateway', params: { kind: 'disabled', detail: { nat_interface: e.natInterface } } };
    case 'peer_connected':
      return { topic: 'peers', params: { kind: 'connected', peer: peerWire(e.peer) } };
    case 'peer_disconnected':
    case 'peer_revoked':
      return { topic: 'peers', params: { kind: 'disconnected', peer: peerWire(e.peer) } };
    case 'peer_roamed':
      return { topic: 'peers', params: { kind: 'state_changed', peer: peerWire(e.peer) } };
    case 'pair_failed':
      return { topic: 'peers', params: { kind: 'pair_failed', peer: peerWire(e.peer), reason: e.reason } };
    case 'peer_discovered':
      return { topic: 'peers', params: { kind: 'discovered', peer: discoveredWire(e.node, nowMs) } };
  }
}
