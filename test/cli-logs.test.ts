// `pim logs` as a user runs it (node dist/ts/cli.js logs -c FILE) against the
// real Daemon with the FakeEngine in this process: the recent history, one
// line per log line with its level; --level filters; -f follows new lines
// and ends when the daemon stops.

import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { testConfigText } from './helpers/config.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { newIdentity } from './helpers/keys.js';

/** dist/test → dist/ts/cli.js */
const CLI_JS = path.join(__dirname, '..', 'ts', 'cli.js');

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (TRACE|DEBUG|INFO |WARN |ERROR|FATAL)( \[[0-9a-f]{8}\])? (.*)$/;

interface Harness extends TestDaemon {
  peerKey: string;
}

async function startDaemon(t: ExecutionContext): Promise<Harness> {
  const peer = newIdentity();
  const config = (dir: string): string =>
    testConfigText(dir, {
      name: 'logs-test',
      interface: { name: 'pimlogs0' },
      bind: '127.0.0.1',
      logLevel: 'debug',
      peers: [{ address: '192.0.2.7:9100', publicKey: peer.publicKeyHex, label: 'alpha' }],
    });
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-cli-logs-',
    writeConfig: (dir, configPath) => fs.writeFileSync(configPath, config(dir)),
    clientName: 'cli-logs-test',
  });
  return { ...d, peerKey: peer.publicKeyHex };
}

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(t: ExecutionContext, args: string[]): Cli {
  const child = spawn(process.execPath, [CLI_JS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No stray PIM_* settings from the environment.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: os.tmpdir() },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function finished(cli: Cli, timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the CLI did not exit within ${timeoutMs} ms; stdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`)), timeoutMs);
  });
  try {
    return await Promise.race([cli.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForOutput(t: ExecutionContext, cli: Cli, pattern: RegExp, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(cli.stdout())) {
    if (Date.now() > deadline || cli.child.exitCode !== null) {
      t.fail(`no ${pattern} in the output; stdout:\n${cli.stdout()}\nstderr:\n${cli.stderr()}`);
      return false;
    }
    await delay(25);
  }
  return true;
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

test('pim logs prints the recent log lines, one per line with its level, oldest first, and exits 0', async (t) => {
  const h = await startDaemon(t);
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.peerKey });
  const before = h.daemon.history.recent.map((e) => ({ level: e.level, message: e.message }));
  t.true(before.length >= 2);
  const cli = runCli(t, ['logs', '-c', h.configPath]);
  const exit = await finished(cli);
  t.is(exit.code, 0, cli.stderr());
  t.is(cli.stderr(), '');
  const out = lines(cli.stdout());
  for (const l of out) t.regex(l, LINE, 'each line: ISO time, level, message');
  // The history as it was before the CLI connected, in order, at the top.
  t.true(out.length >= before.length, `${out.length} lines for ${before.length} history entries`);
  before.forEach((e, i) => {
    const m = LINE.exec(out[i] ?? '');
    t.is(m?.[2]?.trim(), e.level.toUpperCase(), `line ${i + 1}: ${out[i]}`);
    t.is(m?.[4], e.message, `line ${i + 1}`);
  });
  t.true(out.some((l) => / INFO .*up: /.test(l)), 'the start line, shown as INFO');
  t.true(out.some((l) => / WARN .*pairing failed: timeout/.test(l)), 'the warning, shown as WARN');
  // Nothing but the history: at most the history the daemon had once the CLI subscribed.
  t.true(out.length <= h.daemon.history.recent.length);
});

test('pim logs --level warn shows only warn and above', async (t) => {
  const h = await startDaemon(t);
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.peerKey });
  h.fake.emit({ kind: 'mesh_ip_conflict', publicKey: h.peerKey, meshIp: '10.99.0.1' });
  const cli = runCli(t, ['logs', '-c', h.configPath, '--level', 'warn']);
  const exit = await finished(cli);
  t.is(exit.code, 0, cli.stderr());
  const out = lines(cli.stdout());
  t.true(out.length >= 2, cli.stdout());
  for (const l of out) t.regex(l, / (WARN |ERROR|FATAL)( \[[0-9a-f]{8}\])? /, l);
  t.true(out.some((l) => / WARN .*pairing failed: timeout/.test(l)));
  t.true(out.some((l) => / ERROR.*10\.99\.0\.1/.test(l)));
  t.false(out.some((l) => /up: /.test(l)), 'the INFO start line is filtered out');
  const expected = h.daemon.history.recent.filter((e) => ['warn', 'error', 'fatal'].includes(e.level)).length;
  t.is(out.length, expected);
});

test('pim logs --level error drops warnings; an unknown level is a usage error (exit 2)', async (t) => {
  const h = await startDaemon(t);
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.peerKey });
  h.fake.emit({ kind: 'mesh_ip_conflict', publicKey: h.peerKey, meshIp: '10.99.0.1' });
  const cli = runCli(t, ['logs', '-c', h.configPath, '--level', 'error']);
  t.is((await finished(cli)).code, 0, cli.stderr());
  const out = lines(cli.stdout());
  t.is(out.length, 1, cli.stdout());
  t.regex(out[0] ?? '', / ERROR/);
  const bad = runCli(t, ['logs', '-c', h.configPath, '--level', 'loud']);
  t.is((await finished(bad)).code, 2);
  t.regex(bad.stderr(), /^pim: /);
});

test('pim logs -f prints the history, then each new line as the daemon logs it, and exits when the daemon stops', async (t) => {
  const h = await startDaemon(t);
  const cli = runCli(t, ['logs', '-f', '-c', h.configPath]);
  await waitForOutput(t, cli, /up: /);
  t.is(cli.child.exitCode, null, 'still running after the history');
  t.false(/pairing failed/.test(cli.stdout()));

  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.peerKey });
  await waitForOutput(t, cli, / WARN .*pairing failed: timeout/);
  h.fake.emit({ kind: 'mesh_ip_conflict', publicKey: h.peerKey, meshIp: '10.99.0.7' });
  await waitForOutput(t, cli, / ERROR.*10\.99\.0\.7/);
  for (const l of lines(cli.stdout())) t.regex(l, LINE);
  t.is(cli.child.exitCode, null, 'still following');

  await h.daemon.stop();
  const exit = await finished(cli, 10_000);
  t.log(`pim logs -f exit: ${JSON.stringify(exit)}, stderr: ${JSON.stringify(cli.stderr())}`);
  t.is(exit.signal, null, 'it exits by itself');
  t.not(exit.code, null);
  t.true(cli.stderr() === '' || /^pim: [^\n]+\n$/.test(cli.stderr()), `at most one "pim: " line on stderr: ${cli.stderr()}`);
  t.notRegex(cli.stderr(), /\n\s+at /, 'no stack trace');
});

test('pim logs -f --level warn follows only warn and above', async (t) => {
  const h = await startDaemon(t);
  const cli = runCli(t, ['logs', '-f', '--level', 'warn', '-c', h.configPath]);
  // A warn line, printed from the history or live: either way the CLI is subscribed once it shows.
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.peerKey });
  await waitForOutput(t, cli, /pairing failed: timeout/);
  t.is(cli.child.exitCode, null, cli.stderr());
  // Then an info and an error line, live; lines arrive in order, so the info line would show before the error.
  h.fake.emit({ kind: 'connected', publicKey: h.peerKey, endpoint: '192.0.2.7:9100', meshIp: '10.77.1.1' });
  h.fake.emit({ kind: 'mesh_ip_conflict', publicKey: h.peerKey, meshIp: '10.99.0.7' });
  await waitForOutput(t, cli, / ERROR.*10\.99\.0\.7/);
  t.false(/peer connected/.test(cli.stdout()), 'the INFO line is filtered out');
  for (const l of lines(cli.stdout())) t.regex(l, / (WARN |ERROR|FATAL)/);
  cli.child.kill('SIGINT');
  const exit = await finished(cli, 10_000);
  t.true(exit.code !== null || exit.signal === 'SIGINT');
});

test('pim logs without a running daemon exits 3 with one pim: line', async (t) => {
  const h = await startDaemon(t);
  await h.daemon.stop();
  const cli = runCli(t, ['logs', '-c', h.configPath]);
  t.is((await finished(cli)).code, 3);
  t.regex(cli.stderr(), /^pim: .*not running/);
  t.is(cli.stdout(), '');
});
