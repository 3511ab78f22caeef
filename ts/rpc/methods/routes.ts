// route.* and gateway.*: the mesh's routing table, the client's "route
// internet via mesh" with its gateway choice, this node's gateway role, and
// the nodes LAN discovery heard.

import type { Preflight } from '../../daemon/gateway.js';
import type { DiscoveredNode } from '../../discovery/discovery.js';
import type { RouteTableView } from '../../routing/table-view.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { discoveredWire, gatewayWire, preflightWire, routeTableWire } from '../wire.js';

export interface GatewayState {
  active: boolean;
  natInterface: string | null;
}

export interface RouteMethodDeps {
  routeTable(): RouteTableView;
  /** Turns routing via the mesh on or off (persisted); answers the selected gateway's node_id. */
  setRouteOn(on: boolean): Promise<{ on: boolean; viaGatewayId: string | null }>;
  gatewayPreflight(): Promise<Preflight>;
  enableGateway(natInterface: string | null): Promise<GatewayState>;
  disableGateway(): Promise<GatewayState>;
  gatewayStatus(): GatewayState & { peersThroughMe: number };
  discovered(): readonly DiscoveredNode[];
}

export function routeMethods(d: RouteMethodDeps): MethodTable {
  return {
    'route.table': defineMethod({}, () => routeTableWire(d.routeTable())),
    'route.set_split_default': defineMethod({ on: { type: 'boolean' } }, async ({ on }) => {
      const r = await d.setRouteOn(on);
      return { on: r.on, via_gateway_id: r.viaGatewayId };
    }),
    'gateway.preflight': defineMethod({}, async () => preflightWire(await d.gatewayPreflight())),
    'gateway.enable': defineMethod({ nat_interface: { type: 'string', optional: true } }, async ({ nat_interface }) =>
      gatewayWire(await d.enableGateway(nat_interface ?? null)),
    ),
    'gateway.disable': defineMethod({}, async () => gatewayWire(await d.disableGateway())),
    'gateway.status': defineMethod({}, () => {
      const s = d.gatewayStatus();
      return { active: s.active, nat_interface: s.natInterface, peers_through_me: s.peersThroughMe };
    }),
    'peers.discovered': defineMethod({}, () => {
      const now = Date.now();
      return d.discovered().map((n) => discoveredWire(n, now));
    }),
  };
}
