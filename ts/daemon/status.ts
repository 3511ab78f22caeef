// The daemon's `status`: who this node is, its interface, peers, routing and
// counters, from the engine's live state.

import type { Config } from '../config/schema.js';
import type { Identity } from '../identity/identity.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { Engine } from '../native/engine.js';
import type { PeerView } from '../peers/view.js';
import type { StatusView } from '../rpc/wire.js';
import type { NodeRole } from './roles.js';
import type { MeshAddressing } from './snapshot.js';

export interface StatusDeps {
  config(): Config;
  identity: Identity;
  addressing: MeshAddressing;
  engine: Pick<Engine, 'stats' | 'localPort'>;
  interfaceUp(): boolean;
  roles(): NodeRole[];
  peers(): PeerView[];
  /** LAN announcements dropped by discovery, when it runs. */
  discoveryDrops(): { malformed: number; spoofed: number; rate_limited: number } | undefined;
  /** Roles and routes from peers not trusted explicitly, ignored, and new destinations over the table's caps (daemon/mesh.ts). */
  advertsIgnored(): { roles: number; routes: number; overLimit: number };
  /** Routes lost and still held as unreachable (distance-vector.ts). */
  expiredRoutes(): number;
  routing: { readonly on: boolean; readonly selected: string | null; readonly killSwitch: boolean };
  startedAt: Date;
}

/** The counter with the most drops (the first by name among equals); null while nothing was dropped. */
export function mostDropped(drops: Record<string, number>): string | null {
  let top: [string, number] = ['', 0];
  for (const entry of Object.entries(drops).sort(([a], [b]) => a.localeCompare(b))) if (entry[1] > top[1]) top = entry;
  return top[1] > 0 ? top[0] : null;
}

export function buildStatus(d: StatusDeps): StatusView {
  const config = d.config();
  const counters = d.engine.stats();
  const drops: Record<string, number> = {};
  const others: Record<string, number> = {};
  for (const [name, value] of Object.entries(counters)) {
    if (name.startsWith('drop_')) drops[name.slice('drop_'.length)] = value;
    else if (!name.startsWith('offload_')) others[name] = value;
  }
  // LAN announcements dropped by the control plane (discovery/).
  drops.discovery_malformed = d.discoveryDrops()?.malformed ?? 0;
  drops.discovery_spoofed = d.discoveryDrops()?.spoofed ?? 0;
  drops.discovery_rate_limited = d.discoveryDrops()?.rate_limited ?? 0;
  // Advertisements from peers admitted but not trusted explicitly (trust/policy.ts).
  drops.advert_roles_untrusted = d.advertsIgnored().roles;
  drops.advert_routes_untrusted = d.advertsIgnored().routes;
  drops.advert_routes_over_limit = d.advertsIgnored().overLimit;
  const peers = d.peers();
  const n = (k: string): number => counters[k] ?? 0;
  return {
    node: config.node.name,
    nodeId: d.identity.nodeId,
    shortId: d.identity.shortId,
    publicKey: d.identity.publicKeyHex,
    meshIp: d.addressing.meshIp,
    interface: { name: config.interface.name, up: d.interfaceUp(), mtu: config.interface.mtu },
    role: d.roles(),
    udpPort: d.engine.localPort(),
    trustMode: config.trust.mode,
    peers,
    routes: {
      active: peers.filter((p) => p.state === 'active' || p.state === 'relayed').length,
      expired: d.expiredRoutes(),
      selectedGateway: d.routing.selected === null ? null : nodeIdFromPublicKey(Buffer.from(d.routing.selected, 'hex')),
    },
    stats: {
      // Relayed for other nodes (this node as a relay).
      forwardedBytes: n('forwarded_bytes'),
      forwardedPackets: n('forwarded_packets'),
      dropped: Object.values(drops).reduce((a, b) => a + b, 0),
      droppedReason: mostDropped(drops),
      congestionDrops: n('drop_queue_full'),
      drops,
      txBytes: n('tx_bytes'),
      rxBytes: n('rx_bytes'),
      txPackets: n('tx_packets'),
      rxPackets: n('rx_packets'),
      // Gauges, 1 while in use (native/src/stats.rs).
      offloads: { tun: n('offload_tun') === 1, udp_gso: n('offload_udp_gso') === 1, udp_gro: n('offload_udp_gro') === 1 },
      counters: others,
    },
    uptimeS: Math.floor((Date.now() - d.startedAt.getTime()) / 1000),
    routeOn: d.routing.on,
    killSwitch: d.routing.killSwitch,
    lockdown: config.route.lockdown,
    startedAt: d.startedAt,
  };
}
