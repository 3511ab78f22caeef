// What every system's setup shares: what a set-up system is, the tunnel MTU,
// its daemons as Lab processes, stopping them, and waiting for an interface
// or a first ping.

import { waitUntil, type MeshNode } from '../lab/mesh.js';
import type { LabProcess, Node } from '../lab/netns.js';
import type { SystemId } from './metrics.js';
import type { Topology } from './topology.js';

export const TUNNEL_MTU = 1420;

export interface Daemon {
  /** Which end: 'a', 'b' or a multi-peer neighbour 'p1'..'p8'. */
  side: string;
  proc: LabProcess;
}

export interface SystemUnderTest {
  id: SystemId;
  /** B's address in this system: what A's iperf3 and ping aim at. */
  target: string;
  /** p1..p8's addresses in this system, in the topology's order. */
  peerTargets: string[];
  /** The daemons of A and B (CPU and memory are measured on these). */
  daemons: Daemon[];
  /** The tunnel interface in A, for its offload settings; undefined for the raw veth. */
  iface?: string;
  /** pim only: the A and B nodes, for daemon.metrics and status. */
  pimNodes?: [MeshNode, MeshNode];
  /** One line for the report: how it was set up. */
  setup: string;
  stop(): Promise<void>;
}

export async function stopDaemons(daemons: readonly Daemon[]): Promise<void> {
  await Promise.all(
    daemons.map(async ({ proc }) => {
      if (proc.exitStatus) return;
      proc.kill('SIGTERM');
      try {
        await proc.waitExit(5000);
      } catch {
        proc.kill('SIGKILL');
        await proc.waitExit(5000).catch(() => undefined);
      }
    }),
  );
}

/** Until one ping from A crosses the tunnel (the first ones may start its handshake). */
export async function waitForPing(topo: Topology, target: string, what: string, daemons: readonly Daemon[]): Promise<void> {
  await waitUntil(`a ping through ${what} to ${target}`, 20_000, async () => {
    const dead = daemons.find((d) => d.proc.exitStatus);
    if (dead) throw new Error(`${what} on ${dead.side} exited:\n${dead.proc.output()}`);
    const r = await topo.lab.exec(topo.a, 'ping', ['-n', '-c', '1', '-W', '1', target], { allowFailure: true });
    return r.code === 0 ? true : undefined;
  });
}

export async function waitForLink(topo: Topology, node: Node, iface: string, proc: LabProcess): Promise<void> {
  await waitUntil(`${iface} in ${node.ns}`, 10_000, async () => {
    if (proc.exitStatus) throw new Error(`${proc.command} exited:\n${proc.output()}`);
    const r = await topo.lab.exec(node, 'ip', ['link', 'show', iface], { allowFailure: true });
    return r.code === 0 ? true : undefined;
  });
}
