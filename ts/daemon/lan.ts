// LAN discovery wired to the daemon: what it announces, and what a node
// heard means (an event, and a connection when the node is already trusted).

import type { Config } from '../config/schema.js';
import { Discovery } from '../discovery/discovery.js';
import type { DiscoveryTransport } from '../discovery/transport.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Role } from '../routing/roles.js';
import type { EventSink } from './events.js';

export interface LanDeps {
  config: Config;
  selfKey: string;
  localPort(): number;
  roles(): Role[];
  /** A configured or trusted node: hearing it (again) is a reason to connect. */
  isKnown(publicKey: string, nodeId: string): boolean;
  /** Recompiles the snapshot (the engine dials known nodes where discovery heard them). */
  refresh(): void;
  events: EventSink;
  log: Logger;
}

/** Starts discovery when the config enables it and the daemon may use the LAN; undefined otherwise. */
export async function startDiscovery(d: LanDeps, transport: DiscoveryTransport | undefined): Promise<Discovery | undefined> {
  const { discovery, node, interface: iface } = d.config;
  if (!discovery.enabled || !transport) return undefined;
  const lan = new Discovery({
    transport,
    port: discovery.port,
    intervalS: discovery.interval_s,
    meshInterface: iface.name,
    self: () => ({ publicKey: d.selfKey, port: d.localPort(), name: node.name, roles: d.roles() }),
    onDiscovered: (n) => {
      d.events.emit({ type: 'peer_discovered', node: n });
      // A configured or trusted node heard at a (new) address: connect to it there.
      if (d.isKnown(n.publicKey, n.nodeId)) d.refresh();
    },
  });
  try {
    await lan.start();
    return lan;
  } catch (err) {
    d.log.error({ event: 'discovery_failed', reason: describeError(err) }, `LAN discovery not started: ${describeError(err)}`);
    return undefined;
  }
}
