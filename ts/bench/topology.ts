// The benchmark's network: two namespaces, A (the iperf3 client side) and B
// (the server side), joined by one veth pair on 198.18.0.0/24. Every system
// under test runs over this same pair: the raw veth directly, the VPNs as
// tunnels whose UDP goes over it. B runs one iperf3 server for all of them.
// For the multi-peer workload A also has PEER_COUNT more neighbours, p1..p8,
// each on its own veth (198.18.<k>.0/24) with its own iperf3 server.

import type { Lab, LabProcess, Node } from '../lab/netns.js';
import { PEER_COUNT } from './metrics.js';

export const UNDERLAY_SUBNET = '198.18.0.0/24';

export interface Neighbour {
  node: Node;
  /** Underlay addresses: A's end and the neighbour's end of their veth. */
  addrA: string;
  addr: string;
  iperf: IperfServer;
}

export interface Topology {
  lab: Lab;
  a: Node;
  b: Node;
  /** Underlay addresses: A's and B's end of the veth. */
  addrA: string;
  addrB: string;
  iperf: IperfServer;
  /** p1..p8, the receivers of the multi-peer workload. */
  peers: Neighbour[];
}

export async function createTopology(lab: Lab): Promise<Topology> {
  const [a, b] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(a, b, { subnet: UNDERLAY_SUBNET });
  const iperf = new IperfServer(lab, b);
  await iperf.start();
  const peers: Neighbour[] = [];
  for (let k = 1; k <= PEER_COUNT; k++) {
    const node = await lab.addNode(`p${k}`);
    const l = await lab.link(a, node, { subnet: `198.18.${k}.0/24` });
    const server = new IperfServer(lab, node);
    await server.start();
    peers.push({ node, addrA: l.addrA, addr: l.addrB, iperf: server });
  }
  return { lab, a, b, addrA: link.addrA, addrB: link.addrB, iperf, peers };
}

/**
 * `iperf3 -s` in B, listening on every address so each system's target is
 * served by it. A client that failed or was killed can leave the server
 * stuck on its test ("the server is busy"): restart() replaces it.
 */
export class IperfServer {
  private proc: LabProcess | undefined;

  constructor(
    private readonly lab: Lab,
    private readonly node: Node,
  ) {}

  async start(): Promise<void> {
    const proc = this.lab.spawn(this.node, 'iperf3', ['-s', '-i', '0', '--forceflush']);
    this.proc = proc;
    await proc.waitForOutput(/Server listening/, 10_000);
  }

  async restart(): Promise<void> {
    const old = this.proc;
    if (old && !old.exitStatus) {
      old.kill('SIGKILL');
      await old.waitExit(5000).catch(() => undefined);
    }
    await this.start();
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitStatus === undefined;
  }
}
