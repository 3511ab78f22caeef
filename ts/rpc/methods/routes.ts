// route.* and gateway.*: the mesh's routing table, the client's "route
// internet via mesh" with its gateway choice, and this node's gateway role.

import type { Daemon } from '../../daemon/daemon.js';
import { nodeIdFromPublicKey } from '../../identity/node-id.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import { discoveredWire } from '../wire.js';

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

function gatewayState(d: Daemon): { active: boolean; nat_interface: string | null } {
  return { active: d.gateway.active, nat_interface: d.gateway.natInterface ?? d.currentConfig.gateway.nat_interface };
}

export function routeMethods(d: Daemon): MethodTable {
  return {
    'route.table': defineMethod({}, () => {
      const now = Date.now();
      const peers = d.peers();
      // A neighbour with a working session is a route of one hop, whatever
      // it has advertised; farther nodes come from the routing table.
      const direct = peers
        .filter((p) => p.state === 'active' && p.path === 'direct')
        .map((p) => ({ destination: `${p.meshIp}/32`, via: p.nodeId, hops: 1, is_gateway: p.isGateway, age_s: p.lastHandshakeS }));
      const near = new Set(direct.map((r) => r.via));
      const far = d.mesh.table
        .reachable()
        .filter((r) => !near.has(nodeId(r.key)))
        .map((r) => ({
          destination: `${r.ip}/32`,
          via: nodeId(r.via),
          hops: r.hops,
          is_gateway: r.roles.includes('gateway'),
          age_s: Math.floor((now - r.updatedAt) / 1000),
        }));
      return {
        routes: [...direct, ...far],
        gateways: d.mesh.gatewayCandidates().map((g) => ({
          node_id: nodeId(g.publicKey),
          via: nodeId(d.mesh.route(g.publicKey)?.via ?? g.publicKey),
          hops: g.hops,
          score: g.latencyMs,
          selected: d.routing.selected === g.publicKey,
        })),
      };
    }),
    'route.set_split_default': defineMethod({ on: { type: 'boolean' } }, async ({ on }) => {
      await d.routing.setOn(on);
      return { on: d.routing.on, via_gateway_id: d.routing.selected === null ? null : nodeId(d.routing.selected) };
    }),
    'gateway.preflight': defineMethod({}, () => d.gateway.preflight(d.currentConfig.gateway.nat_interface)),
    'gateway.enable': defineMethod({ nat_interface: { type: 'string', optional: true } }, async ({ nat_interface }) => {
      await d.gateway.enable(nat_interface ?? null, true);
      return gatewayState(d);
    }),
    'gateway.disable': defineMethod({}, async () => {
      await d.gateway.disable(true);
      return gatewayState(d);
    }),
    'gateway.status': defineMethod({}, () => ({ ...gatewayState(d), peers_through_me: d.gateway.peersThroughMe() })),
    'peers.discovered': defineMethod({}, () => {
      const now = Date.now();
      return (d.discovery?.list() ?? []).map((n) => discoveredWire(n, now));
    }),
  };
}
