// The real Daemon, with the FakeEngine standing in for the data plane, over
// its real Unix control socket: the JSON shapes of docs/RPC.md, engine
// events reaching clients, reload (SIGHUP) semantics, daemon.stop, and a
// second daemon refusing a live socket.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Daemon } from '../ts/daemon/daemon.js';
import { PimError } from '../ts/errors.js';
import type { Identity } from '../ts/identity/identity.js';
import { meshIpTextFor } from '../ts/identity/mesh-ip.js';
import { FakeEngine } from '../ts/native/fake-engine.js';
import { parseCidr } from '../ts/net/ipv4.js';
import { RpcCallError, RpcClient } from '../ts/rpc/client.js';
import { buildMethods, type MethodDeps } from '../ts/rpc/methods/index.js';
import { notificationFor } from '../ts/rpc/notify.js';
import { VERSION } from '../ts/version.js';
import { testConfigText } from './helpers/config.js';
import { eventually, startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { newIdentity } from './helpers/keys.js';
import { tempDir } from './helpers/tmp.js';
import { checkPeerSummary, HEX, isCount, isIso, isString } from './helpers/rpc-shapes.js';

type Json = Record<string, any>;

// Only the method names are read; no handler runs.
const METHODS = Object.keys(buildMethods({} as MethodDeps));
const HAS_PEERS_SUBSCRIBE = METHODS.includes('peers.subscribe');

const MESH_PREFIX = '10.77.0.0/16';

interface PeerEntry {
  id: Identity;
  address: string;
  label?: string;
}

interface ConfigOptions {
  peers: PeerEntry[];
  mtu?: number;
  name?: string;
  /** Extra TOML appended as is. */
  extra?: string;
}

function configText(dir: string, o: ConfigOptions): string {
  return testConfigText(dir, {
    name: o.name ?? 'test-node',
    interface: { name: 'pimtest0', mtu: o.mtu ?? 1400, meshPrefix: MESH_PREFIX },
    bind: '127.0.0.1',
    trustMode: 'tofu',
    logLevel: 'debug',
    extra: o.extra,
    peers: o.peers.map((p) => ({ address: p.address, publicKey: p.id.publicKeyHex, label: p.label })),
  });
}

interface Harness extends TestDaemon {
  logs: Json[];
  alpha: PeerEntry;
  beta: PeerEntry;
  writeConfig(o: Partial<ConfigOptions>): void;
}

async function startDaemon(t: ExecutionContext): Promise<Harness> {
  const alpha: PeerEntry = { id: newIdentity(), address: '192.0.2.7:9100', label: 'alpha' };
  const beta: PeerEntry = { id: newIdentity(), address: '192.0.2.8:9100', label: 'beta' };
  const write = (dir: string, configPath: string, o: Partial<ConfigOptions>): void => fs.writeFileSync(configPath, configText(dir, { peers: [alpha, beta], ...o }));
  const logs: Json[] = [];
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-daemon-rpc-',
    writeConfig: (dir, configPath) => write(dir, configPath, {}),
    clientName: 'daemon-rpc-test',
    onLog: (line) => void logs.push(line),
  });
  return { ...d, logs, alpha, beta, writeConfig: (o) => write(d.dir, d.configPath, o) };
}

/** One request over a raw socket, for what RpcClient never sends. */
function rawExchange(socket: string, line: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket, () => s.write(`${line}\n`));
    let buf = '';
    s.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, nl)) as Json);
      }
    });
    s.on('error', reject);
  });
}

const byKey = (list: Json[], key: string): Json | undefined => list.find((p) => p['x25519_pubkey'] === key);

// ── rpc.hello ────────────────────────────────────────────────────────────────

test('rpc.hello answers daemon pim-daemon/<version>, rpc_version 1 and its features', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.is(c.hello.daemon, `pim-daemon/${VERSION}`);
  t.is(c.hello.rpc_version, 1);
  t.true(Array.isArray(c.hello.features));
  t.true(c.hello.features.every((f) => typeof f === 'string'));
  for (const f of ['status', 'peers.list']) t.true(c.hello.features.includes(f), f);
});

test('every feature rpc.hello advertises is a method the daemon has', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const f of c.hello.features) t.true(METHODS.includes(f), `advertised but missing: ${f}`);
});

test('a request before rpc.hello gets -32600 and the connection can still say hello', async (t) => {
  const h = await startDaemon(t);
  const answer = await rawExchange(h.socket, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status' }));
  t.is(answer['id'], 1);
  t.is(answer['error']?.code, -32600);
  t.false('result' in answer);
  // The gate is per connection: a fresh client still gets in.
  const c = await h.client();
  t.truthy(await c.call('status'));
});

test('a wrong rpc_version in hello gets -32001', async (t) => {
  const h = await startDaemon(t);
  const answer = await rawExchange(h.socket, JSON.stringify({ jsonrpc: '2.0', id: 'h', method: 'rpc.hello', params: { client: 'x', rpc_version: 2 } }));
  t.is(answer['error']?.code, -32001);
});

test('the control socket is a Unix socket of mode 0600', async (t) => {
  const h = await startDaemon(t);
  const st = fs.lstatSync(h.socket);
  t.true(st.isSocket());
  t.is(st.mode & 0o777, 0o600);
});

// ── status ───────────────────────────────────────────────────────────────────

test('status has every field of docs/RPC.md with the right types', async (t) => {
  const h = await startDaemon(t);
  const s = await (await h.client()).call<Json>('status');
  const id = h.daemon.identity;
  t.is(s['node'], 'test-node');
  t.is(s['node_id'], id.nodeId);
  t.regex(s['node_id'], HEX(32));
  t.is(s['node_id_short'], id.nodeId.slice(0, 8));
  t.is(s['x25519_pubkey'], id.publicKeyHex);
  t.regex(s['x25519_pubkey'], HEX(64));
  t.is(s['mesh_ip'], meshIpTextFor(id.nodeId, parseCidr(MESH_PREFIX)!));
  t.deepEqual(s['interface'], { name: 'pimtest0', up: true, mtu: 1400 });
  t.true(Array.isArray(s['role']) && s['role'].every(isString), JSON.stringify(s['role']));
  t.true(isCount(s['transport']?.udp?.port));
  t.is(s['transport'].udp.port, h.fake.localPort());
  t.is(s['trust']?.mode, 'tofu');
  t.true(Array.isArray(s['peers']));
  t.is(s['peers'].length, 2);
  for (const p of s['peers'] as Json[]) checkPeerSummary(t, p);
  t.true(isCount(s['routes']?.active));
  t.true(s['routes']?.selected_gateway === null || isString(s['routes']?.selected_gateway));
  t.true('selected_gateway' in s['routes']);
  for (const k of ['forwarded_bytes', 'forwarded_packets', 'dropped', 'congestion_drops']) t.true(isCount(s['stats']?.[k]), `stats.${k}`);
  t.true(Object.values(s['stats']?.counters ?? { none: -1 }).every(isCount), 'stats.counters are counts');
  t.false(Object.keys(s['stats']?.counters ?? {}).some((k) => k.startsWith('drop_') || k.startsWith('offload_')), 'drops and gauges have their own fields');
  t.true(isCount(s['uptime_s']));
  t.is(s['route_on'], false);
  t.is(s['kill_switch'], false);
  t.true(isIso(s['started_at']), s['started_at']);
  t.true(Date.parse(s['started_at']) <= Date.now());
});

test('status counts active routes from the peers', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.is((await c.call<Json>('status'))['routes'].active, 0);
  h.fake.setPeer({ publicKey: h.alpha.id.publicKeyHex, meshIp: '10.77.1.1', endpoint: h.alpha.address, state: 'active', configured: true, rxBytes: 1, txBytes: 1 });
  t.is((await c.call<Json>('status'))['routes'].active, 1);
});

// ── peers.list ───────────────────────────────────────────────────────────────

test('peers.list shows each static peer with every PeerSummary field, its config label and derived mesh IP', async (t) => {
  const h = await startDaemon(t);
  const list = await (await h.client()).call<Json[]>('peers.list');
  t.is(list.length, 2);
  for (const p of list) checkPeerSummary(t, p);
  for (const e of [h.alpha, h.beta]) {
    const p = byKey(list, e.id.publicKeyHex)!;
    t.truthy(p, e.label);
    t.is(p['node_id'], e.id.nodeId);
    t.is(p['label'], e.label);
    t.is(p['mesh_ip'], meshIpTextFor(e.id.nodeId, parseCidr(MESH_PREFIX)!));
    t.is(p['endpoint'], e.address);
    t.is(p['state'], 'connecting');
    t.is(p['static'], true);
    t.is(p['last_handshake_s'], null, 'never');
    t.is(p['rx_bytes'], 0);
  }
});

test('peers.list reflects the engine: an active peer with a 3 s old handshake', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  h.fake.setPeer({
    publicKey: h.alpha.id.publicKeyHex,
    meshIp: meshIpTextFor(h.alpha.id.nodeId, parseCidr(MESH_PREFIX)!),
    endpoint: '192.0.2.7:9100',
    state: 'active',
    configured: true,
    lastHandshakeMs: 3000,
    lastReceivedMs: 1500,
    rttMs: 12.345,
    rxBytes: 4096,
    txBytes: 2048,
  });
  const p = byKey(await c.call<Json[]>('peers.list'), h.alpha.id.publicKeyHex)!;
  checkPeerSummary(t, p);
  t.is(p['state'], 'active');
  t.is(p['last_handshake_s'], 3);
  t.is(p['last_seen_s'], 1);
  t.is(p['rx_bytes'], 4096);
  t.is(p['tx_bytes'], 2048);
  t.is(p['latency_ms'], 12.3);
  t.is(p['label'], 'alpha');
  t.is(p['last_error'], null);
});

test('peers.list shows a peer that dialled in as not static and unlabelled', async (t) => {
  const h = await startDaemon(t);
  const stranger = newIdentity();
  h.fake.setPeer({ publicKey: stranger.publicKeyHex, meshIp: '10.77.9.9', endpoint: '203.0.113.4:5555', state: 'active', configured: false, rxBytes: 0, txBytes: 0 });
  const p = byKey(await (await h.client()).call<Json[]>('peers.list'), stranger.publicKeyHex)!;
  checkPeerSummary(t, p);
  t.is(p['static'], false);
  t.is(p['label'], null);
  t.is(p['node_id'], stranger.nodeId);
});

// ── engine events → clients ──────────────────────────────────────────────────

test("a handshake timeout shows in peers.list as state failed, last_error 'timeout'", async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const key = h.alpha.id.publicKeyHex;
  h.fake.emit({ kind: 'handshake_timeout', publicKey: key });
  h.fake.setPeer({ publicKey: key, meshIp: '10.77.1.1', endpoint: h.alpha.address, state: 'failed', configured: true, rxBytes: 0, txBytes: 0 });
  const p = byKey(await c.call<Json[]>('peers.list'), key)!;
  t.is(p['state'], 'failed');
  t.is(p['last_error'], 'timeout');
  t.is(byKey(await c.call<Json[]>('peers.list'), h.beta.id.publicKeyHex)!['last_error'], null, 'other peers unaffected');
  const line = h.logs.find((l) => l['event'] === 'pair_failed');
  t.is(line?.['reason'], 'timeout');
  t.is(line?.['peer_id'], h.alpha.id.nodeId);
  t.is(line?.['level'], 'warn');
});

test("a rejected handshake from a static peer's endpoint is attributed to that peer", async (t) => {
  const h = await startDaemon(t);
  h.fake.emit({ kind: 'handshake_rejected', source: h.beta.address });
  const p = byKey(await (await h.client()).call<Json[]>('peers.list'), h.beta.id.publicKeyHex)!;
  t.is(p['last_error'], 'noise handshake rejected');
  t.is(byKey(await (await h.client()).call<Json[]>('peers.list'), h.alpha.id.publicKeyHex)!['last_error'], null);
});

test('connecting again clears the last pairing failure', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const key = h.alpha.id.publicKeyHex;
  h.fake.emit({ kind: 'untrusted', publicKey: key, source: h.alpha.address });
  t.is(byKey(await c.call<Json[]>('peers.list'), key)!['last_error'], 'untrusted peer ID');
  h.fake.emit({ kind: 'connected', publicKey: key, endpoint: h.alpha.address, meshIp: '10.77.1.1' });
  // Even before the engine reports the session active, the failure is history.
  t.is(byKey(await c.call<Json[]>('peers.list'), key)!['last_error'], null);
});

/** Records the notifications the daemon's events become (whether or not anyone subscribed), log lines aside. */
function spyOnPublish(d: Daemon): { topic: string; params: Json }[] {
  const seen: { topic: string; params: Json }[] = [];
  d.events.subscribe((e) => {
    const { topic, params } = notificationFor(e, Date.now());
    seen.push({ topic, params });
  });
  return seen;
}

test("pair_failed is published as peers.event with the peer's summary and the reason", async (t) => {
  const h = await startDaemon(t);
  const seen = spyOnPublish(h.daemon);
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.alpha.id.publicKeyHex });
  t.is(seen.length, 1);
  t.is(seen[0]!.topic, 'peers');
  const { kind, reason, peer } = seen[0]!.params;
  t.is(kind, 'pair_failed');
  t.is(reason, 'timeout');
  checkPeerSummary(t, peer);
  t.is(peer.x25519_pubkey, h.alpha.id.publicKeyHex);
  t.is(peer.label, 'alpha');
});

test('a rejected handshake from an unknown endpoint is published with only that endpoint', async (t) => {
  const h = await startDaemon(t);
  const seen = spyOnPublish(h.daemon);
  h.fake.emit({ kind: 'handshake_rejected', source: '203.0.113.66:4444' });
  t.deepEqual(
    seen.map((s) => s.params),
    [{ kind: 'pair_failed', reason: 'noise handshake rejected', peer: { node_id: null, node_id_short: null, endpoint: '203.0.113.66:4444', x25519_pubkey: null } }],
  );
  const list = await (await h.client()).call<Json[]>('peers.list');
  t.true(list.every((p) => p['last_error'] === null), 'no configured peer is blamed');
});

// The security model's resolution path for 'untrusted peer ID' is to compare
// node_ids, so the event carries them even for a peer no table lists.
test("pair_failed 'untrusted peer ID' for a peer that is not in the table carries its node_id", async (t) => {
  const h = await startDaemon(t);
  const seen = spyOnPublish(h.daemon);
  const stranger = newIdentity();
  h.fake.emit({ kind: 'untrusted', publicKey: stranger.publicKeyHex, source: '203.0.113.70:9100' });
  t.is(seen.length, 1);
  const { reason, peer } = seen[0]!.params;
  t.is(reason, 'untrusted peer ID');
  t.is(peer.x25519_pubkey, stranger.publicKeyHex);
  t.is(peer.endpoint, '203.0.113.70:9100');
  t.is(peer.node_id, stranger.nodeId);
  t.is(peer.node_id_short, stranger.shortId);
});

(HAS_PEERS_SUBSCRIBE ? test : test.skip)("peers.subscribe: a handshake timeout reaches subscribers as peers.event pair_failed 'timeout'", async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const events: Json[] = [];
  c.onNotification((method, params) => {
    if (method === 'peers.event') events.push(params as Json);
  });
  const sub = await c.call<Json>('peers.subscribe');
  t.true(isString(sub['subscription_id']));
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.alpha.id.publicKeyHex });
  await eventually(t, 'peers.event pair_failed', () => events.some((e) => e['kind'] === 'pair_failed'));
  const e = events.find((x) => x['kind'] === 'pair_failed')!;
  t.is(e['reason'], 'timeout');
  t.true(isIso(e['at']), e['at']);
  t.is(e['peer']?.x25519_pubkey, h.alpha.id.publicKeyHex);
  t.is(e['peer']?.node_id, h.alpha.id.nodeId);
  t.is(e['peer']?.label, 'alpha');
});

// ── reload ───────────────────────────────────────────────────────────────────

test('reload: a peer added to the file reaches the engine without a restart', async (t) => {
  const h = await startDaemon(t);
  const before = h.fake.snapshot!.version;
  const gamma: PeerEntry = { id: newIdentity(), address: '192.0.2.9:9100', label: 'gamma' };
  h.writeConfig({ peers: [h.alpha, h.beta, gamma] });
  const result = await h.daemon.reload();
  t.deepEqual(result, { applied: true, requiresRestart: [] });
  const snap = h.fake.snapshot!;
  t.true(snap.version > before);
  t.deepEqual(
    snap.peers.map((p) => p.publicKey),
    [h.alpha, h.beta, gamma].map((e) => e.id.publicKeyHex),
  );
  t.deepEqual(snap.peers[2], { publicKey: gamma.id.publicKeyHex, meshIp: meshIpTextFor(gamma.id.nodeId, parseCidr(MESH_PREFIX)!), endpoint: '192.0.2.9:9100', persistent: true });
  const list = await (await h.client()).call<Json[]>('peers.list');
  t.is(byKey(list, gamma.id.publicKeyHex)?.['label'], 'gamma');
  t.truthy(h.logs.find((l) => l['event'] === 'reloaded'));
});

test('reload: established sessions survive, a removed peer goes, a relabel shows', async (t) => {
  const h = await startDaemon(t);
  const key = h.alpha.id.publicKeyHex;
  h.fake.setPeer({ publicKey: key, meshIp: '10.77.1.1', endpoint: h.alpha.address, state: 'active', configured: true, lastHandshakeMs: 1000, rxBytes: 10, txBytes: 20 });
  h.writeConfig({ peers: [{ ...h.alpha, label: 'renamed' }] });
  t.deepEqual(await h.daemon.reload(), { applied: true, requiresRestart: [] });
  const list = await (await h.client()).call<Json[]>('peers.list');
  t.is(list.length, 1);
  t.is(list[0]!['x25519_pubkey'], key);
  t.is(list[0]!['state'], 'active');
  t.is(list[0]!['label'], 'renamed');
});

test("reload: a changed interface.mtu is reported as needing a restart and the running value stays", async (t) => {
  const h = await startDaemon(t);
  h.writeConfig({ mtu: 1280 });
  const result = await h.daemon.reload();
  t.deepEqual(result, { applied: true, requiresRestart: ['interface.mtu'] });
  const s = await (await h.client()).call<Json>('status');
  t.is(s['interface'].mtu, 1400);
});

test('reload: a change that applies live (node name) is applied', async (t) => {
  const h = await startDaemon(t);
  h.writeConfig({ name: 'renamed-node' });
  t.deepEqual(await h.daemon.reload(), { applied: true, requiresRestart: [] });
  t.is((await (await h.client()).call<Json>('status'))['node'], 'renamed-node');
});

test('reload: an invalid file keeps the running config and names file:line:col', async (t) => {
  const h = await startDaemon(t);
  const snapshot = h.fake.snapshot;
  // A wrong type and an unknown key, with a new peer that must not be applied.
  h.writeConfig({ name: 'never-applied', peers: [h.alpha, h.beta, { id: newIdentity(), address: '192.0.2.9:9100', label: 'gamma' }], extra: '[route]\ninternet_via_mesh = "yes"\nbogus = 1\n' });
  const result = await h.daemon.reload();
  t.false(result.applied);
  t.deepEqual(result.requiresRestart, []);
  t.true(result.error?.startsWith(`${h.configPath}:`), result.error);
  t.regex(result.error!, new RegExp(`^${h.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: route\\.`));
  t.is(h.fake.snapshot, snapshot, 'the engine got no new snapshot');
  const c = await h.client();
  t.is((await c.call<Json>('status'))['node'], 'test-node');
  t.is((await c.call<Json[]>('peers.list')).length, 2);
  t.is(h.logs.find((l) => l['event'] === 'reload_failed')?.['level'], 'error');
  // Once fixed, the next reload applies.
  h.writeConfig({ name: 'fixed' });
  t.true((await h.daemon.reload()).applied);
  t.is((await c.call<Json>('status'))['node'], 'fixed');
});

test('reload: a trust mode change applies live to the engine snapshot and status', async (t) => {
  const h = await startDaemon(t);
  t.is(h.fake.snapshot!.pins.length, 2, 'tofu pins both static peers');
  const allowed = h.alpha.id.nodeId;
  fs.writeFileSync(h.configPath, fs.readFileSync(h.configPath, 'utf8').replace('mode = "tofu"', `mode = "allow_list"\nallow_list = ["${allowed}"]`));
  t.deepEqual(await h.daemon.reload(), { applied: true, requiresRestart: [] });
  t.is(h.fake.snapshot!.trustMode, 'allow_list');
  // Both static peers are named in the config, so they stay explicit; the allow_list adds nothing new.
  t.deepEqual([...h.fake.snapshot!.explicit].sort(), [h.alpha.id.nodeId, h.beta.id.nodeId].sort());
  t.true(h.fake.snapshot!.explicit.includes(allowed));
  t.deepEqual(h.fake.snapshot!.pins, []);
  t.is((await (await h.client()).call<Json>('status'))['trust'].mode, 'allow_list');
});

test('reload: a changed control socket path needs a restart and the daemon keeps answering on the old one', async (t) => {
  const h = await startDaemon(t);
  fs.writeFileSync(h.configPath, fs.readFileSync(h.configPath, 'utf8').replace(/socket = .*/, `socket = ${JSON.stringify(path.join(h.dir, 'other.sock'))}`));
  t.deepEqual(await h.daemon.reload(), { applied: true, requiresRestart: ['rpc.socket'] });
  t.true(fs.existsSync(h.socket));
  t.truthy(await (await h.client()).call('status'));
});

/** A FakeEngine whose applySnapshot can be made to fail, as the native engine does on an invalid snapshot. */
class RefusingEngine extends FakeEngine {
  refuse = false;
  override applySnapshot(snapshot: Parameters<FakeEngine['applySnapshot']>[0]): void {
    if (this.refuse) throw new PimError('internal', 'invalid snapshot');
    super.applySnapshot(snapshot);
  }
}

async function startWithEngine(t: ExecutionContext, engine: FakeEngine): Promise<TestDaemon> {
  return startTestDaemon(t, {
    tmpPrefix: 'pim-daemon-rpc-',
    writeConfig: (dir, configPath) => fs.writeFileSync(configPath, configText(dir, { peers: [] })),
    clientName: 'daemon-rpc-test',
    engine,
  });
}

test('reload: when the engine refuses the new snapshot, the running config stays', async (t) => {
  const engine = new RefusingEngine();
  const { daemon, dir, configPath } = await startWithEngine(t, engine);
  fs.writeFileSync(configPath, configText(dir, { peers: [], name: 'refused' }));
  engine.refuse = true;
  const result = await daemon.reload();
  t.false(result.applied);
  t.regex(result.error ?? '', /invalid snapshot/);
  t.is(daemon.status().node, 'test-node');
  t.is(daemon.currentConfig.node.name, 'test-node');
});

test('reload: when the engine refuses the new snapshot, the log level stays too', async (t) => {
  const engine = new RefusingEngine();
  const { daemon, dir, configPath } = await startWithEngine(t, engine);
  t.is(daemon.logger.level, 'debug');
  fs.writeFileSync(configPath, configText(dir, { peers: [] }).replace('level = "debug"', 'level = "error"'));
  engine.refuse = true;
  t.false((await daemon.reload()).applied);
  t.is(daemon.currentConfig.log.level, 'debug');
  t.is(daemon.logger.level, 'debug');
});

test('reload: a deleted config file keeps the running config', async (t) => {
  const h = await startDaemon(t);
  fs.rmSync(h.configPath);
  const result = await h.daemon.reload();
  t.false(result.applied);
  t.regex(result.error ?? '', /does not exist/);
  t.is((await (await h.client()).call<Json[]>('peers.list')).length, 2);
});

// ── stopping ─────────────────────────────────────────────────────────────────

test('daemon.stop answers {stopping:true}, then the socket file goes and the engine stops', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.true(h.fake.running);
  t.deepEqual(await c.call('daemon.stop'), { stopping: true });
  await eventually(t, 'the socket file to disappear', () => !fs.existsSync(h.socket));
  await eventually(t, 'onStopped', () => h.stoppedWith.length > 0);
  t.false(h.fake.running);
  t.deepEqual(h.stoppedWith, [0]);
  await c.whenClosed();
  await t.throwsAsync(RpcClient.connect(h.socket, { client: 'late', timeoutMs: 1000 }), { instanceOf: PimError, message: /not running/ });
  t.truthy(h.logs.find((l) => l['event'] === 'daemon_stopped'));
});

test('an engine fault stops the daemon: fatal log line, socket removed, onStopped(1)', async (t) => {
  const h = await startDaemon(t);
  h.fake.emit({ kind: 'fault', message: 'TUN device vanished' });
  await eventually(t, 'onStopped', () => h.stoppedWith.length > 0);
  t.deepEqual(h.stoppedWith, [1]);
  t.false(fs.existsSync(h.socket));
  t.false(h.fake.running);
  const fatal = h.logs.find((l) => l['event'] === 'engine_fault');
  t.is(fatal?.['level'], 'fatal');
  t.regex(fatal?.['msg'] ?? '', /TUN device vanished/);
});

test('an engine that fails to start leaves no control socket behind', async (t) => {
  const dir = tempDir(t, 'pim-daemon-rpc-');
  const configPath = path.join(dir, 'pim.toml');
  fs.writeFileSync(configPath, configText(dir, { peers: [] }));
  const broken = new FakeEngine();
  // Already running: start() throws, as the native engine does when it cannot create the TUN device.
  broken.start({ privateKey: Buffer.alloc(32), tunName: 'x', mtu: 1400, bindAddress: '127.0.0.1', listenPort: 0, fwmark: 0 }, { version: 0, meshIp: '10.77.0.1', meshPrefix: MESH_PREFIX, peers: [], trustMode: 'tofu', explicit: [], pins: [], gateway: false, gatewayBlocked: [], gatewayLanExplicit: false, relays: [] }, () => undefined);
  const opts = { configPath, pathEnv: { uid: 1000, env: {}, homedir: dir }, logDestination: { write: () => undefined } };
  await t.throwsAsync(Daemon.start({ ...opts, engine: broken }), { message: /already running/ });
  t.false(fs.existsSync(path.join(dir, 'pim.sock')));
  // The path is free for the next attempt.
  const fake = new FakeEngine();
  const d = await Daemon.start({ ...opts, engine: fake });
  t.teardown(() => d.stop());
  t.true(fake.running);
});

test('stop is idempotent', async (t) => {
  const h = await startDaemon(t);
  await Promise.all([h.daemon.stop(), h.daemon.stop()]);
  await h.daemon.stop();
  t.false(fs.existsSync(h.socket));
  t.false(h.fake.running);
});

test('a second daemon on the same socket is refused with socket_busy and the first keeps answering', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const second = new FakeEngine();
  const err = await t.throwsAsync(Daemon.start({ configPath: h.configPath, pathEnv: h.pathEnv, engine: second, logDestination: { write: () => undefined } }), {
    instanceOf: PimError,
  });
  t.is(err?.code, 'socket_busy');
  t.false(second.running, 'the refused daemon never started its engine');
  t.true(fs.lstatSync(h.socket).isSocket());
  t.is((await c.call<Json>('status'))['node_id'], h.daemon.identity.nodeId);
  t.is((await (await h.client()).call<Json>('status'))['node_id'], h.daemon.identity.nodeId);
});

// ── logs ─────────────────────────────────────────────────────────────────────

test('the daemon logs JSON lines with an event field, and never its private key', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  await c.call('status');
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.alpha.id.publicKeyHex });
  await h.daemon.reload();
  const started = h.logs.find((l) => l['event'] === 'daemon_started');
  t.is(started?.['node_id'], h.daemon.identity.nodeId);
  t.truthy(h.logs.find((l) => l['event'] === 'key_created'));
  for (const l of h.logs) t.true(isString(l['event']), JSON.stringify(l));
  const key = fs.readFileSync(path.join(h.dir, 'node.key'));
  const text = JSON.stringify(h.logs);
  for (const encoded of [key.toString('hex'), key.toString('base64'), JSON.stringify([...key]).slice(1, -1)]) t.false(text.includes(encoded));
});

test('an unknown method gets -32601', async (t) => {
  const h = await startDaemon(t);
  const err = await t.throwsAsync((await h.client()).call('no.such.method'), { instanceOf: RpcCallError });
  t.is(err?.code, -32601);
});
