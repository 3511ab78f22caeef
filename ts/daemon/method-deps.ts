// What each group of control-socket methods may use, built from the
// daemon's parts where the daemon is assembled (daemon.ts). Each group gets
// only its own small interface (rpc/methods/*.ts).

import type { DiscoveredNode } from '../discovery/discovery.js';
import { PimError } from '../errors.js';
import type { Identity } from '../identity/identity.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { LogHistory } from '../log/history.js';
import type { Engine } from '../native/engine.js';
import type { PeerBook } from '../peers/book.js';
import type { PeerView } from '../peers/view.js';
import { routeTableView } from '../routing/table-view.js';
import type { MethodDeps } from '../rpc/methods/index.js';
import type { StatusView } from '../rpc/wire.js';
import type { Pairing } from '../trust/pairing.js';
import { addStaticPeer, checkPeerAddress, removeStaticPeer, saveConfigText } from './config-ops.js';
import type { ConfigState } from './config-state.js';
import type { GatewayManager } from './gateway.js';
import type { MeshManager } from './mesh.js';
import type { Probes } from './probes.js';
import type { ReloadResult } from './reload.js';
import type { RouteManager } from './routing.js';
import type { RuntimeMonitor } from './runtime-metrics.js';

/** The daemon's parts the methods reach, as the daemon holds them. */
export interface MethodParts {
  state: ConfigState;
  identity: Identity;
  engine: Engine;
  book: PeerBook;
  pairing: Pairing;
  probes: Probes;
  routing: RouteManager;
  gateway: GatewayManager;
  mesh: MeshManager;
  history: LogHistory;
  runtime: RuntimeMonitor;
  peers(): PeerView[];
  status(): StatusView;
  reload(): Promise<ReloadResult>;
  discoveredNodes(): DiscoveredNode[];
  requestStop(): void;
}

export function methodDeps(d: MethodParts): MethodDeps {
  const edits = { state: d.state, selfKey: d.identity.publicKeyHex, reload: () => d.reload() };
  const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
  const gatewayState = () => ({ active: d.gateway.active, natInterface: d.gateway.natInterface ?? d.state.current.gateway.nat_interface });
  return {
    status: { status: () => d.status() },
    peers: {
      peers: () => d.peers(),
      checkAddress: checkPeerAddress,
      keysHeardAt: (address) => d.book.keysHeardAt(address),
      addStatic: (peer) => addStaticPeer(edits, peer),
      removeStatic: (ref) => removeStaticPeer(edits, ref),
      pair: async (id) => {
        const nodeId = await d.pairing.pair(id);
        const view = d.peers().find((v) => v.nodeId === nodeId);
        // A paired peer is in the trust store, so it is always listed.
        if (view === undefined) throw new Error(`paired ${nodeId} but it is not listed`);
        return view;
      },
      forget: (id) => d.pairing.forget(id),
      ping: async (id, timeoutMs) => {
        const engine = d.engine.peers();
        const peer = d.book.resolve(id, engine);
        const view = d.peers().find((v) => v.publicKey === peer.publicKey);
        if (view === undefined) throw new PimError('peer_not_found', `no peer has node_id ${id}`, { hint: 'list peers with `pim peers`' });
        const via = engine.find((p) => p.publicKey === peer.publicKey)?.via;
        const rttMs = await d.probes.ping(peer.publicKey, timeoutMs);
        return { view, viaNodeId: via === undefined ? null : nodeId(via), rttMs };
      },
    },
    config: { configPath: d.state.path, save: (text, dryRun) => saveConfigText(edits, text, dryRun) },
    routes: {
      routeTable: () => routeTableView(d.peers(), d.mesh.table.reachable(), d.routing.candidates(), d.routing.selected, Date.now()),
      setRouteOn: async (on) => {
        await d.routing.setOn(on);
        return { on: d.routing.on, viaGatewayId: d.routing.selected === null ? null : nodeId(d.routing.selected) };
      },
      gatewayPreflight: () => d.gateway.preflight(d.state.current.gateway.nat_interface),
      enableGateway: async (natInterface) => {
        await d.gateway.enable(natInterface, true);
        return gatewayState();
      },
      disableGateway: async () => {
        await d.gateway.disable(true);
        return gatewayState();
      },
      gatewayStatus: () => ({ ...gatewayState(), peersThroughMe: d.gateway.peersThroughMe() }),
      discovered: () => d.discoveredNodes(),
    },
    subscriptions: { recentLogs: () => d.history.recent },
    daemon: { metrics: (reset) => d.runtime.read(reset), requestStop: () => d.requestStop() },
  };
}
