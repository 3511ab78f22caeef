// One run of one system: every workload in a fixed order, each failure
// recorded (the metric is then missing for that run) rather than ending the
// benchmark, so a system that breaks under load shows up in the report.
//
//   1. idle RTT: ping -c 50 -i 0.02, median
//   2. TCP 1 stream A→B, with the daemons' CPU time (/proc) and, for pim,
//      daemon.metrics reset before and read after on both nodes
//   3. TCP 1 stream B→A (-R), TCP 4 streams (-P 4) both ways
//   4. RTT under load: ping while a TCP stream A→B runs, median
//   5. multi-peer: one TCP stream from A to each of p1..p8 at once, summed
//   6. UDP 1372-byte payloads: the rate search (search.ts), S/2 s per probe
//   7. memory: VmHWM and VmRSS of A's and B's daemons

import { rpcCall } from '../lab/mesh.js';
import { ping, tcp, udp, type TcpResult } from './iperf.js';
import { cpuDelta, cpuSeconds, statusMiB, withDescendants } from './proc.js';
import type { SystemUnderTest } from './daemons.js';
import { searchUdpRate, type Probe } from './search.js';
import { median, type RunRecord, type Samples } from './stats.js';

import type { Topology } from './topology.js';

export interface WorkloadOptions {
  seconds: number;
}

export interface DaemonMemory {
  side: string;
  pid: number;
  peakRssMiB: number | null;
  rssMiB: number | null;
}

export interface RunDetails {
  tcp: Record<string, TcpResult | null>;
  /** The multi-peer workload: one result per neighbour, in order. */
  peers: Array<TcpResult | null>;
  udp: { best: Probe | null; probes: Probe[] } | null;
  pingIdleMs: number[];
  pingLoadMs: number[];
  cpu: { seconds: number; gigabits: number } | null;
  memory: DaemonMemory[];
  /** pim only: daemon.metrics of each node after the TCP 1 stream A→B run. */
  eventLoop: Array<{ side: 'a' | 'b'; metrics: unknown }> | null;
}

export interface RunSample extends RunRecord {
  startedAt: string;
  durationS: number;
  details: RunDetails;
  errors: string[];
}

const TCP_RUNS = [
  { id: 'tcp1_ab_mbps', streams: 1, reverse: false },
  { id: 'tcp1_ba_mbps', streams: 1, reverse: true },
  { id: 'tcp4_ab_mbps', streams: 4, reverse: false },
  { id: 'tcp4_ba_mbps', streams: 4, reverse: true },
] as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function p99Of(metrics: unknown): number | undefined {
  const v = (metrics as { event_loop_delay_p99_ms?: unknown } | null)?.event_loop_delay_p99_ms;
  return typeof v === 'number' ? v : undefined;
}

export async function runWorkloads(topo: Topology, sut: SystemUnderTest, run: number, opts: WorkloadOptions): Promise<RunSample> {
  const started = Date.now();
  const samples: Samples = {};
  const errors: string[] = [];
  const details: RunDetails = { tcp: {}, peers: [], udp: null, pingIdleMs: [], pingLoadMs: [], cpu: null, memory: [], eventLoop: null };
  const step = async (name: string, body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (err) {
      errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const S = opts.seconds;

  await step('idle ping', async () => {
    const r = await ping(topo, topo.a, sut.target, 50, 0.02);
    details.pingIdleMs = r.rttsMs;
    if (r.rttsMs.length === 0) throw new Error(`no reply to ${r.sent} pings`);
    samples.rtt_idle_ms = median(r.rttsMs);
  });

  for (const w of TCP_RUNS) {
    await step(w.id, async () => {
      const first = w.id === 'tcp1_ab_mbps';
      const pids = withDescendants(sut.daemons.map((d) => d.proc.pid));
      const before = cpuSeconds(pids);
      if (first && sut.pimNodes) await Promise.all(sut.pimNodes.map((m) => rpcCall(m, 'daemon.metrics', { reset: true })));
      details.tcp[w.id] = null;
      const r = await tcp(topo, sut.target, { seconds: S, streams: w.streams, reverse: w.reverse });
      details.tcp[w.id] = r;
      samples[w.id] = r.bps / 1e6;
      if (!first) return;
      if (sut.daemons.length > 0) {
        const seconds = cpuDelta(before, cpuSeconds(pids));
        const gigabits = (r.bytes * 8) / 1e9;
        details.cpu = { seconds, gigabits };
        if (gigabits > 0) samples.cpu_s_per_gbit = seconds / gigabits;
      }
      if (sut.pimNodes) {
        const [ma, mb] = await Promise.all(sut.pimNodes.map((m) => rpcCall(m, 'daemon.metrics')));
        details.eventLoop = [
          { side: 'a', metrics: ma },
          { side: 'b', metrics: mb },
        ];
        const p99s = [p99Of(ma), p99Of(mb)].filter((v): v is number => v !== undefined);
        if (p99s.length === 0) throw new Error(`daemon.metrics gave no event_loop_delay_p99_ms: ${JSON.stringify(ma)}`);
        samples.event_loop_p99_ms = Math.max(...p99s);
      }
    });
  }

  await step('ping under load', async () => {
    const loadSeconds = Math.max(S, 2);
    const load = tcp(topo, sut.target, { seconds: loadSeconds, streams: 1, reverse: false });
    load.catch(() => undefined); // awaited below
    await sleep(500);
    const count = Math.min(250, Math.max(20, Math.floor((loadSeconds - 1) / 0.02)));
    const r = await ping(topo, topo.a, sut.target, count, 0.02);
    await load;
    details.pingLoadMs = r.rttsMs;
    if (r.rttsMs.length === 0) throw new Error(`no reply to ${r.sent} pings`);
    samples.rtt_load_ms = median(r.rttsMs);
  });

  await step('multi-peer', async () => {
    details.peers = sut.peerTargets.map(() => null);
    const results = await Promise.all(
      sut.peerTargets.map(async (target, k) => {
        const r = await tcp(topo, target, { seconds: S, streams: 1, reverse: false }, topo.peers[k].iperf);
        details.peers[k] = r;
        return r;
      }),
    );
    samples.tcp_peers_mbps = results.reduce((sum, r) => sum + r.bps, 0) / 1e6;
  });

  await step('udp search', async () => {
    const tcpBps = details.tcp.tcp1_ab_mbps?.bps ?? 100e6;
    const probeSeconds = Math.max(1, Math.round(S / 2));
    const result = await searchUdpRate(
      { startBps: tcpBps, steps: 5, maxSteps: 8, maxLossPercent: 1, floorBps: 1e6 },
      (rate) => udp(topo, sut.target, rate, probeSeconds),
    );
    details.udp = { best: result.best ?? null, probes: result.probes };
    if (!result.best) throw new Error(`no rate lost < 1 % (${result.probes.map((p) => `${Math.round(p.rateBps / 1e6)} Mbit/s: ${p.lossPercent.toFixed(1)} %`).join(', ')})`);
    samples.udp_kpps = result.best.deliveredPps / 1000;
  });

  details.memory = sut.daemons.map((d) => ({
    side: d.side,
    pid: d.proc.pid,
    peakRssMiB: statusMiB(d.proc.pid, 'VmHWM') ?? null,
    rssMiB: statusMiB(d.proc.pid, 'VmRSS') ?? null,
  }));
  const peaks = details.memory.map((m) => m.peakRssMiB).filter((v): v is number => v !== null);
  if (sut.daemons.length > 0) {
    if (peaks.length === sut.daemons.length) samples.peak_rss_mib = Math.max(...peaks);
    else errors.push('memory: a daemon is gone (no /proc/<pid>/status)');
  }
  for (const d of sut.daemons) {
    if (d.proc.exitStatus) errors.push(`daemon on ${d.side} exited (${JSON.stringify(d.proc.exitStatus)}): ${d.proc.output().trim().slice(-400)}`);
  }
  return { run, system: sut.id, samples, startedAt: new Date(started).toISOString(), durationS: (Date.now() - started) / 1000, details, errors };
}
