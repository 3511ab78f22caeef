// The compiled programs as a user runs them: `pim` (exit codes 1 and 3,
// errors as `pim: ` lines without stack traces, config check/init, id,
// status/peers/down against a daemon) and the start-up errors of
// `pim-daemon`. No root needed. Help and usage errors: cli-help.test.ts.

import test from 'ava';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Daemon } from '../ts/daemon/daemon.js';
import { publicKeyFromPrivate } from '../ts/identity/keys.js';
import { FakeEngine } from '../ts/native/fake-engine.js';
import { checkErrorOutput, pim, pimDaemon, writeConfig } from './helpers/cli.js';
import { newIdentity } from './helpers/keys.js';
import { tempDir } from './helpers/tmp.js';

// ── pim: no daemon ───────────────────────────────────────────────────────────

for (const args of [['status'], ['status', '--json'], ['peers'], ['down']]) {
  test(`pim ${args.join(' ')} with no daemon on the config's socket exits 3 with one \`pim: \` line`, async (t) => {
    const dir = tempDir(t);
    const file = writeConfig(dir);
    const r = await pim([...args, '-c', file], dir);
    t.is(r.code, 3);
    t.is(r.stdout, '');
    const line = checkErrorOutput(t, r, 'pim');
    t.true(line.includes(path.join(dir, 'run', 'pim.sock')), line);
  });
}

test('pim status with a stale socket file (nothing listening) exits 3', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir);
  fs.mkdirSync(path.join(dir, 'run'));
  // A socket file whose daemon is gone: bind, then close without unlinking.
  const sock = path.join(dir, 'run', 'pim.sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  const copy = path.join(dir, 'run', 'stale.sock');
  fs.linkSync(sock, copy);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.renameSync(copy, sock);
  const r = await pim(['status', '-c', file], dir);
  t.is(r.code, 3);
  checkErrorOutput(t, r, 'pim');
});

test('pim status -c with a missing config file exits 1, naming the file', async (t) => {
  const dir = tempDir(t);
  const r = await pim(['status', '-c', path.join(dir, 'nope.toml')], dir);
  t.is(r.code, 1);
  t.true(checkErrorOutput(t, r, 'pim').includes('nope.toml'));
});

// ── pim config ───────────────────────────────────────────────────────────────

test('pim config init -o F writes a config that pim config check accepts', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'sub', 'pim.toml');
  const init = await pim(['config', 'init', '-o', file], dir);
  t.is(init.code, 0, init.stderr);
  t.true(fs.existsSync(file));
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.regex(fs.readFileSync(file, 'utf8'), /^# /, 'commented');
  const check = await pim(['config', 'check', '-c', file], dir);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.is(check.stdout, `${file}: ok\n`);
});

test('pim config init refuses to overwrite without --force and leaves the file unchanged', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'pim.toml');
  t.is((await pim(['config', 'init', '-o', file], dir)).code, 0);
  const edited = `${fs.readFileSync(file, 'utf8')}# my own edit\n`;
  fs.writeFileSync(file, edited);
  const again = await pim(['config', 'init', '-o', file], dir);
  t.is(again.code, 1);
  const line = checkErrorOutput(t, again, 'pim');
  t.true(line.includes(file), line);
  t.is(fs.readFileSync(file, 'utf8'), edited);
  t.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file left behind',
  );
  const forced = await pim(['config', 'init', '--force', '-o', file], dir);
  t.is(forced.code, 0);
  t.false(fs.readFileSync(file, 'utf8').includes('# my own edit'));
});

test('pim config init --force over a directory fails with exit 1 and leaves no temp file', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'pim.toml');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'keep'), 'x');
  const r = await pim(['config', 'init', '--force', '-o', target], dir);
  t.is(r.code, 1);
  t.true(checkErrorOutput(t, r, 'pim').includes(target));
  t.deepEqual(fs.readdirSync(dir), ['pim.toml'], 'the temp file was removed');
  t.deepEqual(fs.readdirSync(target), ['keep']);
});

test('pim config init under a path whose parent is a file fails with exit 1 and one `pim: ` line', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'file'), '');
  const r = await pim(['config', 'init', '-o', path.join(dir, 'file', 'pim.toml')], dir);
  t.is(r.code, 1);
  checkErrorOutput(t, r, 'pim');
});

test('pim config check lists each problem as file:line:col: path: message and exits 1', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.toml');
  fs.writeFileSync(file, '[node]\nname = "x"\ncolour = "blue"\n\n[interface]\nmtu = "big"\n');
  const r = await pim(['config', 'check', '-c', file], dir);
  t.is(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines.length, 2, r.stdout);
  const parsed = lines.map((l) => {
    const m = /^(.*):(\d+):(\d+): ([a-z_.[\]0-9]+): (.+)$/.exec(l);
    t.truthy(m, l);
    return m ? { file: m[1], line: Number(m[2]), column: Number(m[3]), path: m[4], message: m[5]! } : undefined;
  });
  t.like(parsed[0], { file, line: 3, column: 1, path: 'node.colour' });
  t.regex(parsed[0]?.message ?? '', /unknown key/);
  t.like(parsed[1], { file, line: 6, path: 'interface.mtu' });
  t.true((parsed[1]?.column ?? 0) >= 1);
  t.regex(parsed[1]?.message ?? '', /integer/);
  t.false(r.stderr.includes('    at '));
  t.regex(r.stderr, /^pim: /);
});

test('pim config check on invalid TOML points at the syntax error and exits 1', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'broken.toml');
  fs.writeFileSync(file, '[node]\nname = "x\n');
  const r = await pim(['config', 'check', '-c', file], dir);
  t.is(r.code, 1);
  t.regex(r.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: `));
});

test('pim config check on a missing file exits 1 with one `pim: ` line', async (t) => {
  const dir = tempDir(t);
  const r = await pim(['config', 'check', '-c', path.join(dir, 'missing.toml')], dir);
  t.is(r.code, 1);
  t.true(checkErrorOutput(t, r, 'pim').includes('missing.toml'));
});

// ── pim id ───────────────────────────────────────────────────────────────────

test('pim id --json creates a 0600 key file and prints a consistent identity; a second run prints the same', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir);
  const keyFile = path.join(dir, 'keys', 'node.key');
  const first = await pim(['id', '-c', file, '--json'], dir);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /created a new identity key/);
  const st = fs.statSync(keyFile);
  t.is(st.mode & 0o777, 0o600);
  t.is(st.size, 32);
  const doc = JSON.parse(first.stdout) as Record<string, unknown>;
  t.deepEqual(Object.keys(doc).sort(), ['node_id', 'node_id_short', 'schema_version', 'x25519_pubkey']);
  t.is(doc['schema_version'], 1);
  t.regex(doc['x25519_pubkey'] as string, /^[0-9a-f]{64}$/);
  t.regex(doc['node_id'] as string, /^[0-9a-f]{32}$/);
  const pub = Buffer.from(doc['x25519_pubkey'] as string, 'hex');
  t.is(doc['node_id'], createHash('sha256').update(pub).digest().subarray(0, 16).toString('hex'));
  t.is(doc['node_id_short'], (doc['node_id'] as string).slice(0, 8));
  t.true(publicKeyFromPrivate(fs.readFileSync(keyFile)).equals(pub), 'the public key is that of the stored private key');
  const second = await pim(['id', '-c', file, '--json'], dir);
  t.is(second.code, 0);
  t.is(second.stderr, '');
  t.deepEqual(JSON.parse(second.stdout), doc);
  // Human output shows the same identity.
  const human = await pim(['id', '-c', file], dir);
  t.is(human.code, 0);
  for (const v of [doc['node_id'], doc['node_id_short'], doc['x25519_pubkey']] as string[]) t.true(human.stdout.includes(v));
  t.false(human.stdout.includes(fs.readFileSync(keyFile).toString('hex')), 'never prints the private key');
});

const badKeyCases: Array<[rule: string, content: Buffer, mode: number, message: RegExp]> = [
  ['too long (hex text)', Buffer.from('ab'.repeat(32)), 0o600, /expected 32 raw bytes, found 64/],
  ['too short', Buffer.alloc(31, 1), 0o600, /expected 32 raw bytes, found 31/],
  ['empty', Buffer.alloc(0), 0o600, /found 0/],
  ['readable by others', Buffer.alloc(32, 7), 0o644, /permissions 0644/],
];
for (const [rule, content, mode, message] of badKeyCases) {
  test(`pim id with a key file that is ${rule} exits 1 with one \`pim: \` line naming the path`, async (t) => {
    const dir = tempDir(t);
    const file = writeConfig(dir);
    const keyFile = path.join(dir, 'keys', 'node.key');
    fs.mkdirSync(path.dirname(keyFile));
    fs.writeFileSync(keyFile, content);
    fs.chmodSync(keyFile, mode);
    const r = await pim(['id', '-c', file, '--json'], dir);
    t.is(r.code, 1);
    t.is(r.stdout, '');
    const line = checkErrorOutput(t, r, 'pim');
    t.true(line.includes(keyFile), line);
    t.regex(line, message);
    t.deepEqual(fs.readFileSync(keyFile), content, 'the key file is left alone');
  });
}

test('pim id with an invalid config exits 1 instead of falling back to defaults', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, '[trust]\nmode = "trust_everyone"\n', 'bad.toml');
  const r = await pim(['id', '-c', file], dir);
  t.is(r.code, 1);
  checkErrorOutput(t, r, 'pim');
  t.false(fs.existsSync(path.join(dir, 'keys', 'node.key')));
});

// ── pim against a daemon (in this process, with the fake engine) ────────────

test('pim status, peers and down against a running daemon', async (t) => {
  const dir = tempDir(t);
  const alpha = newIdentity();
  const beta = newIdentity();
  const peers = [
    `[[peers]]\naddress = "192.0.2.7:9100"\npublic_key = "${alpha.publicKeyHex}"\nlabel = "alpha"\n`,
    `[[peers]]\naddress = "192.0.2.8:9100"\npublic_key = "${beta.publicKeyHex}"\nlabel = "beta"\n`,
  ].join('\n');
  const file = writeConfig(dir, peers);
  const fake = new FakeEngine();
  const stopped: number[] = [];
  const daemon = await Daemon.start({
    configPath: file,
    pathEnv: { uid: 1000, env: {}, homedir: dir },
    engine: fake,
    logDestination: { write: () => undefined },
    onStopped: (code) => void stopped.push(code),
  });
  t.teardown(() => daemon.stop());

  const status = await pim(['status', '-c', file], dir);
  t.is(status.code, 0, status.stderr);
  t.is(status.stdout.split('\n')[0], `pim node cli-test (${daemon.identity.shortId})`);
  t.true(status.stdout.includes(daemon.identity.publicKeyHex));

  const statusJson = await pim(['status', '-c', file, '--json'], dir);
  t.is(statusJson.code, 0);
  const doc = JSON.parse(statusJson.stdout) as Record<string, unknown>;
  t.is(doc['schema_version'], 1);
  t.is(doc['node_id'], daemon.identity.nodeId);

  fake.setPeer({ publicKey: alpha.publicKeyHex, meshIp: '10.77.1.1', endpoint: '192.0.2.7:9100', state: 'active', configured: true, lastHandshakeMs: 14_000, rxBytes: 12.3 * 1024 * 1024, txBytes: 100, rttMs: 3.21 });
  fake.emit({ kind: 'handshake_timeout', publicKey: beta.publicKeyHex });
  fake.setPeer({ publicKey: beta.publicKeyHex, meshIp: '10.77.1.2', endpoint: '192.0.2.8:9100', state: 'failed', configured: true, rxBytes: 0, txBytes: 0 });
  const list = await pim(['peers', '-c', file], dir);
  t.is(list.code, 0, list.stderr);
  const [header, ...rows] = list.stdout.trimEnd().split('\n');
  t.regex(header!, /^SHORT ID\s+LABEL\s+MESH IP/);
  const alphaRow = rows.find((r) => r.startsWith(alpha.shortId))!;
  const betaRow = rows.find((r) => r.startsWith(beta.shortId))!;
  for (const cell of ['alpha', '10.77.1.1', '192.0.2.7:9100', 'active', 'direct', '14s ago', '12.3 MiB', '100 B', '3.2 ms']) t.true(alphaRow.includes(cell), `${cell} in ${alphaRow}`);
  for (const cell of ['beta', 'failed (timeout)', 'never']) t.true(betaRow.includes(cell), `${cell} in ${betaRow}`);

  const listJson = await pim(['peers', '-c', file, '--json'], dir);
  const peersDoc = JSON.parse(listJson.stdout) as { schema_version: number; peers: Record<string, unknown>[] };
  t.is(peersDoc.schema_version, 1);
  t.deepEqual(peersDoc.peers.map((p) => p['label']).sort(), ['alpha', 'beta']);

  const down = await pim(['down', '-c', file], dir);
  t.is(down.code, 0, down.stderr);
  t.regex(down.stdout, /daemon stopped/);
  t.false(fs.existsSync(path.join(dir, 'run', 'pim.sock')));
  t.false(fake.running);
  t.deepEqual(stopped, [0]);
});

// ── pim-daemon start-up errors ───────────────────────────────────────────────

test('pim-daemon --help exits 0 with its usage', async (t) => {
  const r = await pimDaemon(['--help'], tempDir(t));
  t.is(r.code, 0);
  t.regex(r.stdout, /^usage: pim-daemon/);
});

test('pim-daemon with an unexpected argument exits 2', async (t) => {
  const r = await pimDaemon(['--frob'], tempDir(t));
  t.is(r.code, 2);
  t.regex(r.stderr, /^pim-daemon: unexpected argument '--frob'/);
});

test('pim-daemon -c <config with an unknown key> exits 1 with `pim-daemon: file:line:col: ...` and no stack trace', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, '[log]\nlevel = "info"\nverbosity = 3\n');
  const r = await pimDaemon(['-c', file], dir);
  t.is(r.code, 1);
  const line = checkErrorOutput(t, r, 'pim-daemon');
  t.true(line.startsWith(`pim-daemon: ${file}:`), line);
  t.regex(line.slice(`pim-daemon: ${file}:`.length), /^\d+:\d+: log\.verbosity: unknown key/);
  t.false(fs.existsSync(path.join(dir, 'run', 'pim.sock')), 'no control socket was created');
});

test('pim-daemon -c <config whose key file is mode 0644> exits 1 naming the key file', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir);
  const keyFile = path.join(dir, 'keys', 'node.key');
  fs.mkdirSync(path.dirname(keyFile));
  fs.writeFileSync(keyFile, Buffer.alloc(32, 9), { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);
  const r = await pimDaemon(['-c', file], dir);
  t.is(r.code, 1);
  const line = checkErrorOutput(t, r, 'pim-daemon');
  t.true(line.includes(keyFile), line);
  t.regex(line, /0644/);
  t.false(fs.existsSync(path.join(dir, 'run', 'pim.sock')), 'no control socket was created');
});

test('pim-daemon -c <missing file> exits 1 naming the file', async (t) => {
  const dir = tempDir(t);
  const r = await pimDaemon(['-c', path.join(dir, 'absent.toml')], dir);
  t.is(r.code, 1);
  t.true(checkErrorOutput(t, r, 'pim-daemon').includes('absent.toml'));
});
