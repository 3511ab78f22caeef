// The trust store (ts/trust/store.ts): TOFU pins and paired peers by node_id,
// written atomically (0600, no temp file left), and a store that cannot be
// read is an error naming the file and the reason, never an empty store: the
// daemon refuses to start on it and leaves the file as it was. No root needed.

import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPimError, PimError } from '../ts/errors.js';
import { TrustStore } from '../ts/trust/store.js';
import { testConfigText } from './helpers/config.js';
import { newPublicKey, nodeIdOf } from './helpers/keys.js';
import { nonRootTest } from './helpers/root.js';
import { tempDir } from './helpers/tmp.js';

const DAEMON = path.join(__dirname, '../ts/main.js');

interface RawRecord {
  node_id: unknown;
  public_key: unknown;
  endpoint: unknown;
  source: unknown;
  first_seen: unknown;
}

function rawRecord(overrides: Partial<RawRecord> = {}): RawRecord {
  const publicKey = newPublicKey();
  return { node_id: nodeIdOf(publicKey), public_key: publicKey, endpoint: '192.0.2.7:9100', source: 'tofu', first_seen: '2024-05-01T10:00:00.000Z', ...overrides };
}

const doc = (peers: unknown): string => JSON.stringify({ version: 1, peers });

// ── load / save ──────────────────────────────────────────────────────────────

test('load of a missing file gives an empty store', async (t) => {
  const file = path.join(tempDir(t), 'trust.json');
  const store = await TrustStore.load(file);
  t.deepEqual(store.records, []);
  t.is(store.file, file);
  t.false(fs.existsSync(file), 'loading does not create the file');
});

test('load of a missing file in a missing directory gives an empty store', async (t) => {
  const store = await TrustStore.load(path.join(tempDir(t), 'no', 'such', 'dir', 'trust.json'));
  t.deepEqual(store.records, []);
});

test('an empty peer list loads as an empty store', async (t) => {
  const file = path.join(tempDir(t), 'trust.json');
  fs.writeFileSync(file, doc([]));
  t.deepEqual((await TrustStore.load(file)).records, []);
});

test('save then load round-trips every field; the file is 0600 and no temp file is left', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'trust.json');
  const store = await TrustStore.load(file);
  const [k1, k2, k3] = [newPublicKey(), newPublicKey(), newPublicKey()];
  t.true(store.set(k1, '192.0.2.7:9100', 'tofu', new Date('2024-05-01T10:00:00Z')));
  t.true(store.set(k2, null, 'paired', new Date('2024-05-02T11:30:00Z')));
  t.true(store.set(k3, '[2001:db8::1]:9100', 'paired', new Date('2024-05-03T12:00:00Z')));
  await store.save();

  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.deepEqual(fs.readdirSync(dir), ['trust.json'], 'only the store itself: no temp file left');

  const onDisk = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; peers: RawRecord[] };
  t.is(onDisk.version, 1);
  t.deepEqual(onDisk.peers, [
    { node_id: nodeIdOf(k1), public_key: k1, endpoint: '192.0.2.7:9100', source: 'tofu', first_seen: '2024-05-01T10:00:00.000Z' },
    { node_id: nodeIdOf(k2), public_key: k2, endpoint: null, source: 'paired', first_seen: '2024-05-02T11:30:00.000Z' },
    { node_id: nodeIdOf(k3), public_key: k3, endpoint: '[2001:db8::1]:9100', source: 'paired', first_seen: '2024-05-03T12:00:00.000Z' },
  ]);

  const again = await TrustStore.load(file);
  t.deepEqual(again.records, store.records);
  t.deepEqual(again.get(nodeIdOf(k2)), { nodeId: nodeIdOf(k2), publicKey: k2, endpoint: null, source: 'paired', firstSeen: '2024-05-02T11:30:00.000Z' });
  t.is(again.get(nodeIdOf(newPublicKey())), undefined);
});

test('save replaces the previous file atomically and leaves no temp file, also on the second write', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'trust.json');
  const store = await TrustStore.load(file);
  const k = newPublicKey();
  store.set(k, '192.0.2.7:9100', 'tofu', new Date());
  await store.save();
  const inode = fs.statSync(file).ino;
  store.set(newPublicKey(), '192.0.2.8:9100', 'tofu', new Date());
  await store.save();
  t.not(fs.statSync(file).ino, inode, 'a new file was renamed into place, not the old one rewritten');
  t.deepEqual(fs.readdirSync(dir), ['trust.json']);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.is((await TrustStore.load(file)).records.length, 2);
});

test('save creates a missing parent directory (0700)', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'state', 'pim', 'trust.json');
  const store = await TrustStore.load(file);
  store.set(newPublicKey(), null, 'paired', new Date());
  await store.save();
  t.is(fs.statSync(path.join(dir, 'state', 'pim')).mode & 0o777, 0o700);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  t.is((await TrustStore.load(file)).records.length, 1);
});

test('a store saved with no records loads back empty', async (t) => {
  const file = path.join(tempDir(t), 'trust.json');
  const store = await TrustStore.load(file);
  const k = newPublicKey();
  store.set(k, null, 'tofu', new Date());
  store.forget(nodeIdOf(k));
  await store.save();
  t.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { version: 1, peers: [] });
  t.deepEqual((await TrustStore.load(file)).records, []);
});

// ── set / forget ─────────────────────────────────────────────────────────────

test('set records a new peer with its first-seen time and reports the change', async (t) => {
  const store = await TrustStore.load(path.join(tempDir(t), 'trust.json'));
  const k = newPublicKey();
  const at = new Date('2024-06-01T08:00:00Z');
  t.true(store.set(k, '192.0.2.7:9100', 'tofu', at));
  t.deepEqual(store.records, [{ nodeId: nodeIdOf(k), publicKey: k, endpoint: '192.0.2.7:9100', source: 'tofu', firstSeen: at.toISOString() }]);
});

test('set of the same record again reports no change and keeps it as it was', async (t) => {
  const store = await TrustStore.load(path.join(tempDir(t), 'trust.json'));
  const k = newPublicKey();
  store.set(k, '192.0.2.7:9100', 'tofu', new Date('2024-06-01T08:00:00Z'));
  t.false(store.set(k, '192.0.2.7:9100', 'tofu', new Date('2024-07-01T08:00:00Z')));
  t.is(store.get(nodeIdOf(k))!.firstSeen, '2024-06-01T08:00:00.000Z');
  t.is(store.records.length, 1);
});

const changeCases: Array<[what: string, endpoint: string | null, source: 'tofu' | 'paired']> = [
  ['a new endpoint', '192.0.2.99:9100', 'tofu'],
  ['a lost endpoint (null)', null, 'tofu'],
  ['a new source (paired)', '192.0.2.7:9100', 'paired'],
  ['a new endpoint and source', '198.51.100.1:1', 'paired'],
];
for (const [what, endpoint, source] of changeCases) {
  test(`set with ${what} reports a change and keeps the first-seen time of the existing record`, async (t) => {
    const store = await TrustStore.load(path.join(tempDir(t), 'trust.json'));
    const k = newPublicKey();
    store.set(k, '192.0.2.7:9100', 'tofu', new Date('2024-06-01T08:00:00Z'));
    t.true(store.set(k, endpoint, source, new Date('2024-07-01T08:00:00Z')));
    t.deepEqual(store.get(nodeIdOf(k)), { nodeId: nodeIdOf(k), publicKey: k, endpoint, source, firstSeen: '2024-06-01T08:00:00.000Z' });
    t.is(store.records.length, 1);
  });
}

test('forget drops the record and returns it; forgetting again returns undefined', async (t) => {
  const file = path.join(tempDir(t), 'trust.json');
  const store = await TrustStore.load(file);
  const [k1, k2] = [newPublicKey(), newPublicKey()];
  store.set(k1, '192.0.2.7:9100', 'tofu', new Date('2024-06-01T08:00:00Z'));
  store.set(k2, '192.0.2.8:9100', 'tofu', new Date('2024-06-01T08:00:00Z'));
  const gone = store.forget(nodeIdOf(k1));
  t.deepEqual(gone, { nodeId: nodeIdOf(k1), publicKey: k1, endpoint: '192.0.2.7:9100', source: 'tofu', firstSeen: '2024-06-01T08:00:00.000Z' });
  t.is(store.get(nodeIdOf(k1)), undefined);
  t.deepEqual(store.records.map((r) => r.publicKey), [k2]);
  t.is(store.forget(nodeIdOf(k1)), undefined);
  t.is(store.forget(nodeIdOf(newPublicKey())), undefined, 'an unknown node is no error');
  await store.save();
  t.deepEqual((await TrustStore.load(file)).records.map((r) => r.publicKey), [k2], 'the forget is persisted by save');
});

test('a forgotten peer set again gets a fresh first-seen time', async (t) => {
  const store = await TrustStore.load(path.join(tempDir(t), 'trust.json'));
  const k = newPublicKey();
  store.set(k, '192.0.2.7:9100', 'tofu', new Date('2024-06-01T08:00:00Z'));
  store.forget(nodeIdOf(k));
  t.true(store.set(k, '192.0.2.7:9100', 'tofu', new Date('2024-08-01T08:00:00Z')));
  t.is(store.get(nodeIdOf(k))!.firstSeen, '2024-08-01T08:00:00.000Z');
});

// ── corrupt stores ───────────────────────────────────────────────────────────

type Corruption = (file: string) => void;
const write = (text: string): Corruption => (file) => fs.writeFileSync(file, text);

const dup = rawRecord();
const corruptCases: Array<[what: string, make: Corruption, reason: RegExp]> = [
  ['invalid JSON', write('{"version": 1, "peers": ['), /not valid JSON/],
  ['an empty file', write(''), /not valid JSON/],
  ['a truncated write (half a record)', write(doc([rawRecord()]).slice(0, 60)), /not valid JSON/],
  ['a wrong version', write(JSON.stringify({ version: 2, peers: [] })), /expected \{"version": 1, "peers": \[\.\.\.\]\}/],
  ['no version', write(JSON.stringify({ peers: [] })), /expected \{"version": 1/],
  ['a JSON array at the top', write('[]'), /expected \{"version": 1/],
  ['JSON null', write('null'), /expected \{"version": 1/],
  ['peers not an array', write(JSON.stringify({ version: 1, peers: {} })), /"peers" is not an array/],
  ['peers missing', write(JSON.stringify({ version: 1 })), /"peers" is not an array/],
  ['a record that is not an object', write(doc([rawRecord(), 'peer'])), /peers\[1\] is not an object/],
  ['a null record', write(doc([null])), /peers\[0\] is not an object/],
  ['a node_id that does not match its public_key', write(doc([rawRecord({ node_id: nodeIdOf(newPublicKey()) })])), /peers\[0\]\.node_id does not match its public_key/],
  ['a missing node_id', write(doc([rawRecord({ node_id: undefined })])), /peers\[0\]\.node_id does not match its public_key/],
  ['an upper-case node_id', write(doc([((r) => ({ ...r, node_id: String(r.node_id).toUpperCase() }))(rawRecord())])), /peers\[0\]\.node_id does not match/],
  ['a public_key that is not 64 hex', write(doc([rawRecord({ public_key: 'ab'.repeat(31) })])), /peers\[0\]\.public_key is not 64 lowercase hex/],
  ['an upper-case public_key', write(doc([((r) => ({ ...r, public_key: String(r.public_key).toUpperCase() }))(rawRecord())])), /peers\[0\]\.public_key is not 64 lowercase hex/],
  ['the same node listed twice', write(doc([dup, rawRecord(), { ...dup, endpoint: '192.0.2.99:9100' }])), new RegExp(`node ${String(dup.node_id)} is listed twice`)],
  ['a bad source', write(doc([rawRecord({ source: 'trusted' })])), /peers\[0\]\.source must be "tofu" or "paired"/],
  ['a missing source', write(doc([rawRecord({ source: undefined })])), /peers\[0\]\.source must be "tofu" or "paired"/],
  ['an endpoint that is a number', write(doc([rawRecord({ endpoint: 9100 })])), /peers\[0\]\.endpoint is neither a string nor null/],
  ['a missing endpoint', write(doc([rawRecord({ endpoint: undefined })])), /peers\[0\]\.endpoint is neither a string nor null/],
  ['a first_seen that is not a date', write(doc([rawRecord({ first_seen: 'yesterday' })])), /peers\[0\]\.first_seen is not a date/],
  ['a bad record after good ones', write(doc([rawRecord(), rawRecord(), rawRecord({ source: 42 })])), /peers\[2\]\.source/],
  ['a directory at the path (unreadable)', (file) => fs.mkdirSync(file), /EISDIR/],
];

for (const [what, make, reason] of corruptCases) {
  test(`load of a store with ${what} rejects with trust_store_corrupt naming the file and the reason`, async (t) => {
    const file = path.join(tempDir(t), 'trust.json');
    make(file);
    const err = await t.throwsAsync(TrustStore.load(file));
    t.true(isPimError(err), `a PimError, got ${String(err)}`);
    t.true(err instanceof PimError);
    t.is((err as PimError).code, 'trust_store_corrupt');
    t.is((err as PimError).exitCode, 1);
    t.true(err!.message.startsWith(`trust store ${file} is unusable: `), err!.message);
    t.regex(err!.message, reason);
    t.truthy((err as PimError).hint, 'a hint says what to do');
  });
}

// As root the directory case above covers "unreadable".
nonRootTest('load of an unreadable file (mode 000) rejects with trust_store_corrupt', 'mode 000 does not stop root reading', async (t) => {
  const file = path.join(tempDir(t), 'trust.json');
  fs.writeFileSync(file, doc([]), { mode: 0 });
  const err = await t.throwsAsync(TrustStore.load(file));
  t.is((err as PimError).code, 'trust_store_corrupt');
  t.regex(err!.message, /EACCES/);
});

// ── the daemon on a corrupt store ────────────────────────────────────────────

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runDaemon(args: string[], cwd: string, timeoutMs = 20_000): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_') && !k.startsWith('XDG_')) env[k] = v;
  env.HOME = cwd;
  env.XDG_RUNTIME_DIR = path.join(cwd, 'run');
  env.XDG_DATA_HOME = path.join(cwd, 'data');
  env.XDG_CONFIG_HOME = path.join(cwd, 'config');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DAEMON, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function daemonConfig(dir: string, store: string): string {
  const file = path.join(dir, 'pim.toml');
  // A TUN name no other test uses: the daemon must never get as far as the TUN device.
  fs.writeFileSync(file, testConfigText(dir, { name: 'corrupt-store', interface: { name: 'pimtrustx' }, trustStore: store, socket: path.join(dir, 'run', 'pim.sock') }));
  return file;
}

const daemonCases: Array<[what: string, make: Corruption]> = [
  ['invalid JSON', write('{"version": 1, "peers": [ {"node_id": ')],
  ['a wrong version', write(JSON.stringify({ version: 7, peers: [] }))],
  ['a record whose node_id does not match its public_key', write(`${JSON.stringify({ version: 1, peers: [rawRecord({ node_id: nodeIdOf(newPublicKey()) })] }, null, 2)}\n`)],
  ['a duplicate node', write(doc([dup, dup]))],
  ['a bad source', write(doc([rawRecord({ source: 'allow_all' })]))],
];

for (const [what, make] of daemonCases) {
  test(`pim-daemon refuses to start on a trust store with ${what}: exit 1, one clear line, file unchanged`, async (t) => {
    const dir = tempDir(t);
    const store = path.join(dir, 'trust.json');
    make(store);
    const before = fs.readFileSync(store);
    const beforeStat = fs.statSync(store);
    const config = daemonConfig(dir, store);

    const r = await runDaemon(['-c', config], dir);
    t.is(r.signal, null, `not killed: ${r.stderr}`);
    t.is(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    t.false(/\n\s+at /.test(r.stderr), `no stack trace:\n${r.stderr}`);
    t.true(r.stderr.endsWith('\n'));
    const lines = r.stderr.trimEnd().split('\n');
    t.true(lines[0]!.startsWith(`pim-daemon: trust store ${store} is unusable`), r.stderr);
    t.true(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('pim-daemon: hint: ')), `one line plus an optional hint:\n${r.stderr}`);
    t.false(r.stdout.includes('daemon_started'), 'the daemon never came up');

    t.true(fs.readFileSync(store).equals(before), 'the corrupt store is left byte-for-byte unchanged');
    t.is(fs.statSync(store).mtimeMs, beforeStat.mtimeMs, 'not even rewritten with the same bytes');
    t.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('trust')),
      ['trust.json'],
      'no replacement or temp store beside it',
    );
    t.false(fs.existsSync(path.join(dir, 'run', 'pim.sock')), 'no control socket left behind');
  });
}

test('pim-daemon refuses to start when the trust store path is a directory, and leaves it alone', async (t) => {
  const dir = tempDir(t);
  const store = path.join(dir, 'trust.json');
  fs.mkdirSync(store);
  fs.writeFileSync(path.join(store, 'keep'), 'x');
  const r = await runDaemon(['-c', daemonConfig(dir, store)], dir);
  t.is(r.code, 1, r.stderr);
  t.true(r.stderr.startsWith(`pim-daemon: trust store ${store} is unusable`), r.stderr);
  t.false(/\n\s+at /.test(r.stderr), r.stderr);
  t.true(fs.statSync(store).isDirectory());
  t.deepEqual(fs.readdirSync(store), ['keep']);
});
