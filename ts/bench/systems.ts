// The systems under test, each set up between A, B and the multi-peer
// neighbours p1..p8 of the topology once per invocation and kept up through
// every round, so repeated runs hit the same daemons (that is what shows
// whether pim's memory grows). stop() removes a system; the Lab removes
// anything a failed stop leaves.
//
//   raw                   iperf3 straight over the veths (MTU 1500)
//   pim                   pim-daemons (mesh.ts), static peers, TUN MTU 1420, UDP 9100
//   wireguard-go-current,
//   wireguard-go, boringtun   wireguard.ts
//   nebula                nebula.ts
//
// Every tunnel has MTU 1420, so each carries the same packet sizes.

import { prepareNode, rpcCall, startDaemon, waitForPeerState, writeConfig, type MeshNode } from '../lab/mesh.js';
import { BORINGTUN_VERSION, WIREGUARD_GO_VERSION, type Built } from './build.js';
import type { SystemId } from './metrics.js';
import { stopDaemons, TUNNEL_MTU, waitForPing, type Daemon, type SystemUnderTest } from './daemons.js';
import { setupNebula } from './nebula.js';
import type { Topology } from './topology.js';
import { setupWireguard } from './wireguard.js';

export async function setupSystem(id: SystemId, topo: Topology, built: readonly Built[]): Promise<SystemUnderTest> {
  const binary = (): string => {
    const b = built.find((x) => x.system === id)?.binary;
    if (!b) throw new Error(`${id} was not built`);
    return b;
  };
  switch (id) {
    case 'raw':
      return {
        id,
        target: topo.addrB,
        peerTargets: topo.peers.map((p) => p.addr),
        daemons: [],
        setup: 'iperf3 and ping straight over the veth pairs (MTU 1500)',
        stop: async () => undefined,
      };
    case 'pim':
      return setupPim(topo);
    case 'wireguard-go':
      return setupWireguard(topo, { id, command: 'wireguard-go', label: 'wireguard-go (Debian package)', prefix: 'wd', subnet: '100.64.0', port: 51820 });
    case 'wireguard-go-current':
      return setupWireguard(topo, { id, command: binary(), label: `wireguard-go ${WIREGUARD_GO_VERSION} (built from the Go module proxy)`, prefix: 'wc', subnet: '100.66.0', port: 51821 });
    case 'boringtun':
      return setupWireguard(topo, { id, command: binary(), label: `boringtun-cli ${BORINGTUN_VERSION} (built from crates.io)`, prefix: 'bt', subnet: '100.67.0', port: 51822 });
    case 'nebula':
      return setupNebula(topo);
  }
}

async function setupPim(topo: Topology): Promise<SystemUnderTest> {
  const { lab } = topo;
  const a = await prepareNode(lab, topo.a, { label: 'alpha' });
  const b = await prepareNode(lab, topo.b, { label: 'bravo' });
  const ps = await Promise.all(topo.peers.map((p) => prepareNode(lab, p.node, { label: p.node.name })));
  const peerOfA = (m: MeshNode, address: string): { address: string; publicKey: string; label: string } => ({ address: `${address}:9100`, publicKey: m.publicKey, label: m.label });
  writeConfig(a, [peerOfA(b, topo.addrB), ...ps.map((m, k) => peerOfA(m, topo.peers[k].addr))], { label: 'alpha' });
  writeConfig(b, [peerOfA(a, topo.addrA)], { label: 'bravo' });
  ps.forEach((m, k) => writeConfig(m, [peerOfA(a, topo.peers[k].addrA)], { label: m.label }));
  const all = [a, b, ...ps];
  const procs = await Promise.all(all.map((m) => startDaemon(lab, m)));
  const daemons: Daemon[] = all.map((m, i) => ({ side: i === 0 ? 'a' : i === 1 ? 'b' : m.label, proc: procs[i] }));
  const stop = (): Promise<void> => stopDaemons(daemons);
  try {
    await Promise.all(all.slice(1).flatMap((m) => [waitForPeerState(a, m, 'active', 20_000), waitForPeerState(m, a, 'active', 20_000)]));
    const meshIps = await Promise.all(
      all.slice(1).map(async (m) => {
        const status = (await rpcCall(m, 'status')) as { mesh_ip?: unknown };
        if (typeof status.mesh_ip !== 'string') throw new Error(`pim status on ${m.label} has no mesh_ip: ${JSON.stringify(status)}`);
        return status.mesh_ip;
      }),
    );
    for (const ip of meshIps) await waitForPing(topo, ip, 'pim', daemons);
    return {
      id: 'pim',
      target: meshIps[0],
      peerTargets: meshIps.slice(1),
      daemons: daemons.slice(0, 2),
      iface: 'pim0',
      pimNodes: [a, b],
      setup: `pim-daemons (dist/ts/main.js, release native build), static peers by public key, TUN MTU ${TUNNEL_MTU}, UDP 9100`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

