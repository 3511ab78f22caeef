// LAN discovery wired to the daemon: what it announces, and what a node
// heard means (an event, and a connection when the node is already trusted).

import { Discovery } from '../discovery/discovery.js';
import type { DiscoveryTransport } from '../discovery/transport.js';
import { describeError } from '../errors.js';
import { discoveredWire } from '../rpc/wire.js';
import type { Daemon } from './daemon.js';

/** Starts discovery when the config enables it and the daemon may use the LAN; undefined otherwise. */
export async function startDiscovery(d: Daemon, transport: DiscoveryTransport | undefined): Promise<Discovery | undefined> {
  const { discovery, node, interface: iface } = d.currentConfig;
  if (!discovery.enabled || !transport) return undefined;
  const lan = new Discovery({
    transport,
    port: discovery.port,
    intervalS: discovery.interval_s,
    meshInterface: iface.name,
    self: () => ({ publicKey: d.identity.publicKeyHex, port: d.engine.localPort(), name: node.name, roles: d.gateway.active ? ['gateway'] : [] }),
    onDiscovered: (n) => {
      d.logger.info({ event: 'peer_discovered', peer_id: n.nodeId, endpoint: n.address }, `discovered ${n.name || n.nodeId.slice(0, 8)} at ${n.address}`);
      d.publish('peers', { kind: 'discovered', peer: discoveredWire(n, Date.now()) });
      // A configured or trusted node heard at a (new) address: connect to it there.
      const known = d.currentConfig.peers.some((p) => p.public_key === n.publicKey) || d.book.trust.get(n.nodeId) !== undefined;
      if (known) d.refresh();
    },
  });
  try {
    await lan.start();
    return lan;
  } catch (err) {
    d.logger.error({ event: 'discovery_failed', reason: describeError(err) }, `LAN discovery not started: ${describeError(err)}`);
    return undefined;
  }
}
