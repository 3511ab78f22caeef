// The log line each domain event gets: the one place their `event` names,
// levels and messages are chosen (tests and log tools parse them).

import { nodeIdFromPublicKey, shortId } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import type { DaemonEvent, EventPeer } from './events.js';

/** The peer's node_id and address, as log fields. */
function peerFields(peer: EventPeer): { peer_id?: string; endpoint?: string } {
  if ('view' in peer) return { peer_id: peer.view.nodeId };
  return {
    ...(peer.publicKey === null ? {} : { peer_id: nodeIdFromPublicKey(Buffer.from(peer.publicKey, 'hex')) }),
    ...(peer.endpoint === null ? {} : { endpoint: peer.endpoint }),
  };
}

export function logEvent(log: Logger, e: DaemonEvent): void {
  switch (e.type) {
    case 'interface_up':
    case 'interface_down':
      return; // daemon_started and daemon_stopped say it, with more
    case 'route_on':
      return log.info({ event: 'route_on' }, 'routing internet via the mesh');
    case 'route_off':
      return log.info({ event: 'route_off' }, 'routing internet directly again');
    case 'gateway_selected':
      return log.info({ event: 'gateway_selected', peer_id: e.nodeId }, `internet via gateway ${shortId(e.nodeId)}`);
    case 'gateway_lost':
      return log.warn({ event: 'gateway_lost', peer_id: e.nodeId }, `gateway ${shortId(e.nodeId)} lost`);
    case 'kill_switch':
      if (e.engaged) return log.warn({ event: 'kill_switch', engaged: true }, `BLOCKING INTERNET: ${e.reason ?? 'no gateway is reachable'}`);
      if (!e.initial) log.info({ event: 'kill_switch', engaged: false }, 'internet reachable again through the mesh');
      return;
    case 'role_changed':
      return log.info({ event: 'role_changed', roles: e.roles }, `this node's roles: ${e.roles.join(', ')}`);
    case 'gateway_enabled':
      return log.info({ event: 'gateway_enabled', nat_interface: e.natInterface }, `gateway on: the mesh is masqueraded out of ${e.natInterface}`);
    case 'gateway_disabled':
      return log.info({ event: 'gateway_disabled' }, 'gateway off');
    case 'peer_connected':
      return log.info({ event: 'peer_connected', ...peerFields(e.peer), endpoint: e.endpoint, mesh_ip: e.meshIp }, 'peer connected');
    case 'peer_disconnected':
      return log.warn({ event: 'peer_disconnected', ...peerFields(e.peer) }, 'peer stopped answering; reconnecting');
    case 'peer_roamed':
      return log.info({ event: 'peer_roamed', ...peerFields(e.peer), endpoint: e.endpoint }, 'peer endpoint changed');
    case 'pair_failed':
      return log.warn({ event: 'pair_failed', reason: e.reason, ...peerFields(e.peer), ...(e.endpoint === null ? {} : { endpoint: e.endpoint }) }, `pairing failed: ${e.reason}`);
    case 'peer_revoked':
      return log.warn({ event: 'peer_revoked', ...peerFields(e.peer) }, 'session ended: the peer is no longer trusted');
    case 'peer_discovered':
      return log.info(
        { event: 'peer_discovered', peer_id: e.node.nodeId, endpoint: e.node.address },
        `discovered ${e.node.name || e.node.nodeId.slice(0, 8)} at ${e.node.address}`,
      );
  }
}
