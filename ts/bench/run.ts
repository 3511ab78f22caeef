// `npm run bench` (root): raw veth, pim, current wireguard-go, Debian's
// wireguard-go, boringtun and nebula between network namespaces, measured
// round-robin in one invocation (raw, pim, wgc, wg, bt, nebula, raw, pim, ...)
// so that drift in the machine hits every system alike. Writes
// bench/results/<date>.{md,json,png} and removes everything it created, also
// when interrupted.
//
// Exit status: 0 = every workload gave a result; 2 = results written but some
// workload or setup failed (listed under "Problems"); 1 = no results.

import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { commandLine } from '../lab/exec.js';
import { DAEMON_JS } from '../lab/mesh.js';
import { cleanupOnExit, Lab, labAvailable } from '../lab/netns.js';
import { parseArgs, USAGE, type BenchOptions } from './args.js';
import { ensureBuilt } from './build.js';
import { ensureTools } from './install.js';
import { describeMachine } from './machine.js';
import { readOffloads } from './offloads.js';
import { SYSTEM_LABELS, type SystemId } from './metrics.js';
import { buildResult, renderMarkdown, writeResults } from './report.js';
import { formatNumber } from './stats.js';
import type { SystemUnderTest } from './daemons.js';
import { setupSystem } from './systems.js';
import { createTopology } from './topology.js';
import { runWorkloads, type RunSample } from './workloads.js';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');

function log(line: string): void {
  process.stdout.write(`bench: ${line}\n`);
}

function invokedAs(argv: readonly string[]): string {
  const args = argv.length > 0 ? commandLine(argv[0], argv.slice(1)) : '';
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node dist/ts/bench/run.js${args ? ` ${args}` : ''}`;
}

function describeRun(s: RunSample): string {
  const v = (id: string, unit: string): string => (typeof s.samples[id] === 'number' ? `${formatNumber(s.samples[id] as number)} ${unit}` : 'failed');
  const parts = [`tcp1 ${v('tcp1_ab_mbps', 'Mbit/s')}`, `tcp4 ${v('tcp4_ab_mbps', 'Mbit/s')}`, `peers ${v('tcp_peers_mbps', 'Mbit/s')}`, `udp ${v('udp_kpps', 'kpps')}`, `rtt ${v('rtt_idle_ms', 'ms')}`];
  if (s.system !== 'raw') parts.push(`cpu ${v('cpu_s_per_gbit', 's/Gbit')}`);
  if (s.system === 'pim') parts.push(`loop p99 ${v('event_loop_p99_ms', 'ms')}`);
  return `${parts.join(', ')} (${s.durationS.toFixed(0)} s)${s.errors.length > 0 ? `; ${s.errors.length} problem(s): ${s.errors.join(' | ').slice(0, 400)}` : ''}`;
}

async function bench(opts: BenchOptions, argv: readonly string[]): Promise<number> {
  const available = labAvailable();
  if (!available.ok) {
    process.stderr.write(`pim bench: ${available.reason}; run it as root: sudo npm run bench\n`);
    return 1;
  }
  if (opts.systems.includes('pim') && !existsSync(DAEMON_JS)) {
    process.stderr.write(`pim bench: ${DAEMON_JS} is missing; build first (npm run build)\n`);
    return 1;
  }
  const tools = await ensureTools(opts.systems, log);
  const built = await ensureBuilt(tools.systems, log);
  for (const b of built) {
    if (b.reason) tools.missing.push({ system: b.system, reason: b.reason });
  }
  tools.systems = tools.systems.filter((s) => !built.some((b) => b.system === s && b.reason));
  for (const m of tools.missing) log(`leaving out ${m.system}: ${m.reason}`);
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const lab = Lab.create('bench');
  cleanupOnExit(lab);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => log(`${signal}: stopping; removing the daemons, namespaces, veths and temp dirs (no results written)`));
  }
  const suts: SystemUnderTest[] = [];
  const missing = [...tools.missing];
  const setup: Partial<Record<SystemId, string>> = {};
  const offloads: Partial<Record<SystemId, Record<string, string>>> = {};
  const runs: RunSample[] = [];
  try {
    const topo = await createTopology(lab);
    log(`namespaces ${topo.a.ns} (${topo.addrA}) and ${topo.b.ns} (${topo.addrB})`);
    for (const id of tools.systems) {
      try {
        const sut = await setupSystem(id, topo, built);
        suts.push(sut);
        setup[id] = sut.setup;
        const features = sut.iface ? await readOffloads(lab, topo.a, sut.iface) : undefined;
        if (features) offloads[id] = features;
        log(`${id} up: target ${sut.target}${sut.daemons.length > 0 ? `, daemon pids ${sut.daemons.map((d) => d.proc.pid).join(' ')}` : ''}`);
      } catch (err) {
        missing.push({ system: id, reason: `setup failed: ${(err as Error).message.split('\n')[0]}` });
        log(`${id} setup failed: ${(err as Error).message}`);
      }
    }
    for (let run = 1; run <= opts.runs; run++) {
      for (const sut of suts) {
        log(`run ${run}/${opts.runs}: ${SYSTEM_LABELS[sut.id]} ...`);
        const sample = await runWorkloads(topo, sut, run, { seconds: opts.seconds });
        runs.push(sample);
        log(`run ${run}/${opts.runs}: ${SYSTEM_LABELS[sut.id]}: ${describeRun(sample)}`);
      }
    }
  } finally {
    for (const sut of suts) await sut.stop().catch((err: Error) => log(`stopping ${sut.id}: ${err.message}`));
    await lab.cleanup();
    log('cleaned up: daemons stopped, namespaces, veths and temp dirs removed');
  }
  const result = buildResult({
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: invokedAs(argv),
    options: { runs: opts.runs, seconds: opts.seconds, systems: opts.systems },
    machine: describeMachine(REPO_ROOT, built),
    systems: suts.map((s) => s.id),
    missing,
    installed: tools.installed,
    loadAverage: { start: loadAtStart, end: loadavg() },
    setup,
    offloads,
    runs,
  });
  const out = opts.out ?? join(REPO_ROOT, 'bench', 'results');
  const files = writeResults(result, out);
  process.stdout.write(`\n${renderMarkdown(result)}\n`);
  log(`wrote ${files.md}, ${files.json} and ${files.png}`);
  const failed = runs.some((r) => r.errors.length > 0) || missing.some((m) => m.reason.startsWith('setup failed'));
  return failed ? 2 : 0;
}

function main(): void {
  const argv = process.argv.slice(2);
  let opts: BenchOptions;
  try {
    opts = parseArgs(argv, process.env);
  } catch (err) {
    process.stderr.write(`pim bench: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(1);
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  bench(opts, argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`pim bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

main();
