// Load on the control socket: 50 clients each calling `status` every 100 ms
// for 10 s against the real Daemon with the FakeEngine. The daemon runs in a
// child process so that its memory, not the test runner's, is measured.

import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RpcClient } from '../ts/rpc/client.js';
import { testConfigText } from './helpers/config.js';

const CLIENTS = 50;
const PERIOD_MS = 100;
const DURATION_MS = 10_000;
const EARLY_SAMPLE_MS = 2_000;
const MAX_GROWTH_KB = 15 * 1024;

/** dist/test → dist/ts */
const DIST_TS = path.join(__dirname, '..', 'ts');

// Starts the daemon with the FakeEngine on <dir>/pim.toml, prints READY <socket>, stops on SIGTERM.
const DAEMON_SCRIPT = `
const path = require('node:path');
const [distTs, dir] = process.argv.slice(1);
const { Daemon } = require(path.join(distTs, 'daemon', 'daemon.js'));
const { FakeEngine } = require(path.join(distTs, 'native', 'fake-engine.js'));
const configPath = path.join(dir, 'pim.toml');
const socket = path.join(dir, 'pim.sock');
Daemon.start({
  configPath,
  pathEnv: { uid: 1000, env: {}, homedir: dir },
  engine: new FakeEngine(),
  logDestination: { write: () => undefined },
}).then((d) => {
  process.on('SIGTERM', () => void d.stop().then(() => process.exit(0)));
  process.stdout.write('READY ' + socket + '\\n');
}, (err) => {
  process.stderr.write('start failed: ' + (err && err.stack || err) + '\\n');
  process.exit(1);
});
`;

function startDaemonChild(dir: string): Promise<{ child: ChildProcess; socket: string; output: () => string }> {
  fs.writeFileSync(path.join(dir, 'pim.toml'), testConfigText(dir, { name: 'load-test', interface: { name: 'pimload0' }, bind: '127.0.0.1', logLevel: 'info' }));
  const child = spawn(process.execPath, ['-e', DAEMON_SCRIPT, '--', DIST_TS, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon child did not start within 15 s: ${out}`)), 15_000);
    const check = (): void => {
      const m = /^READY (.+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, socket: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the daemon child exited (${code}) during start: ${out}`));
    });
  });
}

/** VmRSS of a process, in kB. */
function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

test(`${CLIENTS} clients calling status every ${PERIOD_MS} ms for ${DURATION_MS / 1000} s: every call answered, no error, daemon memory flat`, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pim-rpc-load-'));
  const clients: RpcClient[] = [];
  let child: ChildProcess | undefined;
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.close()));
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const d = await startDaemonChild(dir);
  child = d.child;
  const pid = child.pid!;
  for (let i = 0; i < CLIENTS; i++) clients.push(await RpcClient.connect(d.socket, { client: `load-${i}`, timeoutMs: 5000 }));
  const nodeId = (await clients[0]!.call<{ node_id: string }>('status')).node_id;

  let sent = 0;
  let answered = 0;
  const errors: string[] = [];
  const latencies: number[] = [];
  const start = Date.now();
  const end = start + DURATION_MS;

  const runClient = async (c: RpcClient, offset: number): Promise<void> => {
    // Spread the clients over the period so the load is steady, not bursts of 50.
    await delay(offset);
    for (let next = Date.now(); next < end; next += PERIOD_MS) {
      const wait = next - Date.now();
      if (wait > 0) await delay(wait);
      sent++;
      const t0 = Date.now();
      try {
        const s = await c.call<{ node_id: string }>('status');
        if (s?.node_id !== nodeId) errors.push(`a wrong answer: ${JSON.stringify(s).slice(0, 200)}`);
        answered++;
        latencies.push(Date.now() - t0);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  };

  const samples: { at: number; kb: number }[] = [];
  const sampler = (async () => {
    await delay(EARLY_SAMPLE_MS);
    samples.push({ at: Date.now() - start, kb: rssKb(pid) });
    await delay(Math.max(0, end - Date.now() - 50));
    samples.push({ at: Date.now() - start, kb: rssKb(pid) });
  })();

  await Promise.all([...clients.map((c, i) => runClient(c, Math.floor((i * PERIOD_MS) / CLIENTS))), sampler]);

  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  t.log(`${answered}/${sent} calls answered in ${Date.now() - start} ms; latency p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies[latencies.length - 1]} ms`);
  t.log(`daemon VmRSS: ${samples.map((s) => `${(s.kb / 1024).toFixed(1)} MiB at ${(s.at / 1000).toFixed(1)} s`).join(', ')}`);

  t.deepEqual(errors.slice(0, 5), [], `${errors.length} errors`);
  t.is(answered, sent, 'every call answered');
  // Each client keeps its 100 ms rhythm (a little slack for a loaded CI box).
  t.true(sent >= CLIENTS * (DURATION_MS / PERIOD_MS) * 0.9, `only ${sent} calls were made`);
  t.is(samples.length, 2);
  const growth = samples[1]!.kb - samples[0]!.kb;
  t.true(growth < MAX_GROWTH_KB, `daemon RSS grew by ${(growth / 1024).toFixed(1)} MiB between ${EARLY_SAMPLE_MS / 1000} s and ${DURATION_MS / 1000} s`);
  // The daemon is still healthy afterwards and its connections are all there.
  t.is((await clients[CLIENTS - 1]!.call<{ node_id: string }>('status')).node_id, nodeId);
  t.is(child.exitCode, null, `the daemon is still running: ${d.output()}`);
});
