// Domain events as control-socket notifications: which topic each goes to
// and the snake_case payload subscribers receive (docs/RPC.md).

import type { DaemonEvent, EventPeer } from '../daemon/events.js';
import type { Topic } from './events.js';
import { anonymousPeerSummary, discoveredWire, peerSummary, type WireAnonymousPeer, type WirePeerSummary } from './wire.js';

export interface Notification {
  topic: Topic;
  params: Record<string, unknown>;
  /**
   * The topics whose subscribers receive it. A gateway event also goes to
   * status subscribers: turning the role on or off changes this node's
   * status, and pim-ui's shell can subscribe only to status, peers and logs.
   */
  audience: readonly Topic[];
}

function peerWire(peer: EventPeer): WirePeerSummary | WireAnonymousPeer {
  return 'view' in peer ? peerSummary(peer.view) : anonymousPeerSummary(peer.publicKey, peer.endpoint);
}

const status = (kind: string, detail: Record<string, unknown>): Notification => ({ topic: 'status', params: { kind, detail }, audience: ['status'] });
const gateway = (kind: string, natInterface: string | null): Notification => ({
  topic: 'gateway',
  params: { kind, detail: { nat_interface: natInterface } },
  audience: ['gateway', 'status'],
});
const peers = (params: Record<string, unknown>): Notification => ({ topic: 'peers', params, audience: ['peers'] });

/** The notification for an event, without `at` (the publisher stamps it). */
export function notificationFor(e: DaemonEvent, nowMs: number): Notification {
  switch (e.type) {
    case 'interface_up':
    case 'interface_down':
      return status(e.type, { interface: e.name });
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
      return gateway('enabled', e.natInterface);
    case 'gateway_disabled':
      return gateway('disabled', e.natInterface);
    case 'peer_connected':
      return peers({ kind: 'connected', peer: peerWire(e.peer) });
    case 'peer_disconnected':
    case 'peer_revoked':
      return peers({ kind: 'disconnected', peer: peerWire(e.peer) });
    case 'peer_roamed':
      return peers({ kind: 'state_changed', peer: peerWire(e.peer) });
    case 'pair_failed':
      return peers({ kind: 'pair_failed', peer: peerWire(e.peer), reason: e.reason });
    case 'peer_discovered':
      return peers({ kind: 'discovered', peer: discoveredWire(e.node, nowMs) });
  }
}
