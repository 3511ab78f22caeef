// `npm run bench:flood` (root; it builds, then runs node dist/ts/bench/flood.js):
// the flood workload of the benchmark (docs/PROTOCOL.md §4.10–4.11). A and B run pim
// with each other as static peers; a third namespace F floods A for 20 s
// from 64 source ports at 30,000 datagrams/s with pim-flood, in four phases:
// random junk, mac1-valid initiations with random crypto, complete valid
// initiations from 2,000 fresh identities, and the same from a sender that
// answers cookie replies, its 64 ports on 64 addresses of F's (so each has a
// per-source bucket of its own at A). In each phase it measures
// (1) the loss of a ping A→B through the tunnel, (2) how long B, restarted
// under the flood, takes to handshake again, (3) after the flood, how long a
// fresh unconfigured node takes to pair with A, and A's CPU and RSS.
// Writes bench/results/<date>-flood.{md,json}. Every address is inside the
// namespaces it creates (198.18.0.0/16); pim-flood refuses any other target
// or source.
//
// Exit status: 0 = every phase met its bound; 2 = results written but some
// bound was missed or a step failed; 1 = nothing measured.

import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../lab/exec.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, writeConfig, type MeshNode } from '../lab/mesh.js';
import { cleanupOnExit, Lab, labAvailable, type LabProcess, type Node } from '../lab/netns.js';
import { DEFENCE_COUNTERS, FLOOD, judge, renderFlood, type FloodResult, type PhaseResult } from './flood-report.js';
import { describeMachine } from './machine.js';
import { cpuDelta, cpuSeconds, statusMiB } from './proc.js';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const FLOOD_BIN = join(REPO_ROOT, 'target', 'release', 'pim-flood');
const PORT = 9100;
/** A's link with F: A is .1, F .2; the fresh nodes use 198.18.2.0/24 and up. */
const F_SUBNET = '198.18.1.0/24';
/** The cookie phase's sources: F's extra addresses from here (.64–.127). */
const FIRST_COOKIE_SOURCE = '198.18.1.64';

function log(line: string): void {
  process.stdout.write(`flood: ${line}\n`);
}

interface World {
  lab: Lab;
  a: MeshNode;
  b: MeshNode;
  f: Node;
  /** A's address on F's veth, and F's own there. */
  aFromF: string;
  fAddr: string;
  bMeshIp: string;
  procA: LabProcess;
  procB: LabProcess;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function stop(proc: LabProcess): Promise<void> {
  if (proc.exitStatus) return;
  proc.kill('SIGTERM');
  await proc.waitExit(10_000).catch(() => {
    proc.kill('SIGKILL');
    return proc.waitExit(5000).catch(() => undefined);
  });
}

async function createWorld(lab: Lab): Promise<World> {
  const [a, b, f] = await Promise.all(['a', 'b', 'f'].map((x) => lab.addNode(x)));
  const ab = await lab.link(a, b, { subnet: '198.18.0.0/24' });
  const af = await lab.link(a, f, { subnet: F_SUBNET });
  await addCookieSources(lab, f, af.ifB);
  const ma = await prepareNode(lab, a, { label: 'a' });
  const mb = await prepareNode(lab, b, { label: 'b' });
  writeConfig(ma, [{ address: `${ab.addrB}:${PORT}`, publicKey: mb.publicKey, label: 'b' }], { label: 'a' });
  writeConfig(mb, [{ address: `${ab.addrA}:${PORT}`, publicKey: ma.publicKey, label: 'a' }], { label: 'b' });
  const [procA, procB] = await Promise.all([startDaemon(lab, ma), startDaemon(lab, mb)]);
  const row = await waitForPeerState(ma, mb, 'active', 20_000);
  return { lab, a: ma, b: mb, f, aFromF: af.addrA, fAddr: af.addrB, bMeshIp: String(row.mesh_ip), procA, procB };
}

/** The cookie phase's source addresses, on F's veth inside F's namespace. */
async function addCookieSources(lab: Lab, f: Node, iface: string): Promise<void> {
  const [a, b, c, d] = FIRST_COOKIE_SOURCE.split('.').map(Number);
  const prefix = F_SUBNET.split('/')[1];
  for (let i = 0; i < FLOOD.cookieSources; i++) {
    await lab.exec(f, 'ip', ['addr', 'add', `${a}.${b}.${c}.${d + i}/${prefix}`, 'dev', iface]);
  }
}

/** pim-flood's sources: the cookie phase's many addresses, else F's one. */
function floodSources(w: World, phase: (typeof FLOOD.phases)[number]): string[] {
  return phase === 'cookie' ? [FIRST_COOKIE_SOURCE, String(FLOOD.cookieSources)] : [w.fAddr, '1'];
}

/** Percent loss from `ping -q`'s summary. */
function pingLoss(output: string): number | undefined {
  const m = output.match(/([\d.]+)% packet loss/);
  return m ? Number(m[1]) : undefined;
}

interface Counts {
  drops: Record<string, number>;
  counters: Record<string, number>;
}

/** A's drop counters by reason and its other engine counters (status.stats). */
async function counts(m: MeshNode): Promise<Counts> {
  return ((await rpcCall(m, 'status')) as { stats: Counts }).stats;
}

/** What changed from `before` to `after`, among `names` (all when undefined). */
function changed(before: Record<string, number>, after: Record<string, number>, names?: readonly string[]): Record<string, number> {
  const picked = Object.entries(after).filter(([k, v]) => (names === undefined || names.includes(k)) && v !== (before[k] ?? 0));
  return Object.fromEntries(picked.map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

async function timed(what: () => Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await what();
  return (Date.now() - t0) / 1000;
}

async function runPhase(w: World, phase: (typeof FLOOD.phases)[number], k: number): Promise<PhaseResult> {
  const r: PhaseResult = { phase, errors: [] };
  const pid = w.procA.pid;
  const cpuBefore = cpuSeconds([pid]);
  let rssMax = statusMiB(pid, 'VmRSS') ?? 0;
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, statusMiB(pid, 'VmRSS') ?? 0);
  }, 250);
  const args = [phase, `${w.aFromF}:${PORT}`, w.a.publicKey, String(FLOOD.rate), String(FLOOD.seconds), String(FLOOD.ports), ...floodSources(w, phase), String(FLOOD.identities)];
  const before = await counts(w.a);
  const flood = w.lab.spawn(w.f, FLOOD_BIN, args);
  const t0 = Date.now();
  try {
    await sleep(1000);
    // 1. A ping through the tunnel under the flood: 100 at 10 a second.
    const ping = await w.lab.exec(w.a.node, 'ping', ['-n', '-q', '-c', '100', '-i', '0.1', '-W', '1', w.bMeshIp], { allowFailure: true });
    r.pingLossPct = pingLoss(ping.stdout);
    if (r.pingLossPct === undefined) r.errors.push(`ping gave no summary: ${ping.stderr.slice(0, 200)}`);
    // 2. B restarted under the flood: from its start to its new session
    // with A (the daemon's own start included).
    await stop(w.procB);
    r.rehandshakeS = await timed(async () => {
      w.procB = await startDaemon(w.lab, w.b);
      await waitForPeerState(w.b, w.a, 'active', 15_000);
    }).catch((err: Error) => {
      r.errors.push(`B's restart and new handshake: ${err.message}`);
      return undefined;
    });
    await flood.waitExit(Math.max(0, FLOOD.seconds * 1000 + 10_000 - (Date.now() - t0)));
    r.floodSent = flood.output().trim().split('\n').pop();
    r.cpuPct = (cpuDelta(cpuBefore, cpuSeconds([pid])) / ((Date.now() - t0) / 1000)) * 100;
    const after = await counts(w.a);
    r.aDrops = changed(before.drops, after.drops);
    r.aDefences = changed(before.counters, after.counters, DEFENCE_COUNTERS);
  } catch (err) {
    r.errors.push((err as Error).message);
    flood.kill('SIGKILL');
  } finally {
    clearInterval(sampler);
  }
  r.rssMaxMiB = rssMax;
  // 3. After the flood, a node A has never heard of pairs with it (TOFU),
  // from an address of its own (A pinned the last phase's node to its own).
  const n = await w.lab.addNode(`n${k}`);
  const an = await w.lab.link(w.a.node, n, { subnet: `198.18.${2 + k}.0/24` });
  const fresh = await prepareNode(w.lab, n, { label: `n-${phase}` });
  writeConfig(fresh, [{ address: `${an.addrA}:${PORT}`, publicKey: w.a.publicKey, label: 'a' }], { label: `n-${phase}` });
  const procN = await startDaemon(w.lab, fresh);
  r.freshPairS = await timed(() => waitForPeerState(fresh, w.a, 'active', 15_000)).catch((err: Error) => {
    r.errors.push(`the fresh node: ${err.message}`);
    return undefined;
  });
  await stop(procN);
  return r;
}

async function main(): Promise<number> {
  const available = labAvailable();
  if (!available.ok) {
    process.stderr.write(`pim flood bench: ${available.reason}; run it as root\n`);
    return 1;
  }
  log('building pim-flood (cargo build --release --bin pim-flood)');
  await run('cargo', ['build', '--release', '--manifest-path', join(REPO_ROOT, 'Cargo.toml'), '--bin', 'pim-flood']);
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const lab = Lab.create('flood');
  cleanupOnExit(lab);
  const phases: PhaseResult[] = [];
  try {
    const w = await createWorld(lab);
    log(`A and B connected; B's mesh IP ${w.bMeshIp}; flooding A at ${w.aFromF}:${PORT}`);
    for (const [k, phase] of FLOOD.phases.entries()) {
      log(`phase ${phase}: ${FLOOD.rate}/s for ${FLOOD.seconds} s from ${FLOOD.ports} ports ...`);
      const r = await runPhase(w, phase, k);
      phases.push(r);
      log(`phase ${phase}: ${JSON.stringify(r)}`);
    }
    await Promise.all([stop(w.procA), stop(w.procB)]);
  } finally {
    await lab.cleanup();
    log('cleaned up: daemons stopped, namespaces, veths and temp dirs removed');
  }
  const result: FloodResult = {
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: describeMachine(REPO_ROOT, []),
    loadAverage: { start: loadAtStart, end: loadavg() },
    flood: FLOOD,
    phases: phases.map((p) => ({ ...p, verdict: judge(p) })),
  };
  const out = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const base = join(out, `${result.date}-flood`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = renderFlood(result);
  writeFileSync(`${base}.md`, md);
  process.stdout.write(`\n${md}\n`);
  log(`wrote ${base}.md and ${base}.json`);
  return result.phases.every((p) => p.verdict.ok) ? 0 : 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pim flood bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
