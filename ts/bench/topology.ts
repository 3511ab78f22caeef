// The benchmark's network: two namespaces, A (the iperf3 client side) and B
// (the server side), joined by one veth pair on 198.18.0.0/24. Every system
// under test runs over this same pair: the raw veth directly, the VPNs as
// tunnels whose UDP goes over it. B runs one iperf3 server for all of them.

import type { Lab, LabProcess, Node } from '../lab/netns.js';

export const UNDERLAY_SUBNET = '198.18.0.0/24';

export interface Topology {
  lab: Lab;
  a: Node;
  b: Node;
  /** Underlay addresses: A's and B's end of the veth. */
  addrA: string;
  addrB: string;
  iperf: IperfServer;
}

export async function createTopology(lab: Lab): Promise<Topology> {
  const [a, b] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(a, b, { subnet: UNDERLAY_SUBNET });
  const iperf = new IperfServer(lab, b);
  await iperf.start();
  return { lab, a, b, addrA: link.addrA, addrB: link.addrB, iperf };
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
