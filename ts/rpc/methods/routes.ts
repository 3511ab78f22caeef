// route.table and gateway.status from the real state: today every route is a
// direct peer and no gateway exists yet (the gateway role and multi-hop
// routing add to these tables when they are built).

import type { Daemon } from '../../daemon/daemon.js';
import { defineMethod, type MethodTable } from '../dispatch.js';

export function routeMethods(d: Daemon): MethodTable {
  return {
    'route.table': defineMethod({}, () => ({
      routes: d
        .peers()
        .filter((p) => p.state === 'active')
        .map((p) => ({ destination: `${p.meshIp}/32`, via: p.nodeId, hops: p.routeHops, is_gateway: p.isGateway, age_s: p.lastHandshakeS })),
      gateways: [],
    })),
    'gateway.status': defineMethod({}, () => ({ active: false, nat_interface: d.currentConfig.gateway.nat_interface, peers_through_me: 0 })),
    // LAN discovery is not running yet, so nothing has been discovered.
    'peers.discovered': defineMethod({}, () => []),
  };
}
