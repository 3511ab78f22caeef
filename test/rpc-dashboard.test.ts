// What pim-ui relies on beyond the shapes (docs/RPC.md, "pim-ui"): log
// filters and one copy of each line per connection, gateway events for a
// shell that subscribes only to status, the roles a node plays, last_seen_s
// of a paired peer, a peer added by the address LAN discovery heard, and the
// methods pim does not serve. The real Daemon with the FakeEngine over its
// real socket, with a LAN that a test speaks for.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { mostDropped } from '../ts/daemon/status.js';
import { encodeAnnouncement } from '../ts/discovery/announce.js';
import type { Identity } from '../ts/identity/identity.js';
import { meshIpTextFor } from '../ts/identity/mesh-ip.js';
import { parseCidr } from '../ts/net/ipv4.js';
import { encodeAdverts } from '../ts/routing/adverts.js';
import type { OsNetwork } from '../ts/routing/os-network.js';
import type { Role } from '../ts/routing/roles.js';
import { RpcCallError, type RpcClient } from '../ts/rpc/client.js';
import { eventually, startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { newIdentity } from './helpers/keys.js';
import { FakeLan } from './helpers/lan.js';
import { FakeNetwork } from './helpers/network.js';
import { checkPeerSummary } from './helpers/rpc-shapes.js';

type Json = Record<string, any>;

const PREFIX = parseCidr('10.77.0.0/16')!;
const meshIp = (id: Identity): string => meshIpTextFor(id.nodeId, PREFIX);

/** The LAN as a test plays it: announcements arrive when the test delivers them. */
class TestLan extends FakeLan {
  /** `id` announces itself (pim port 9100) from `ip`. */
  announce(id: Identity, ip: string): void {
    this.deliver!(encodeAnnouncement({ publicKey: id.publicKeyHex, port: 9100, name: 'lan-node', roles: [] }), { address: ip, port: 9101 });
  }
  junk(ip: string): void {
    this.deliver!(Buffer.from('not an announcement'), { address: ip, port: 9101 });
  }
}

interface World extends TestDaemon {
  lan: TestLan;
  alpha: Identity;
  beta: Identity;
}

async function start(t: ExecutionContext, network?: OsNetwork): Promise<World> {
  const alpha = newIdentity();
  const beta = newIdentity();
  const lan = new TestLan();
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-dashboard-',
    clientName: 'pim-ui/test',
    discoveryTransport: lan,
    network,
    writeConfig: (dir, configPath) =>
      fs.writeFileSync(
        configPath,
        `[node]
name = "dash"
[security]
key_file = ${JSON.stringify(path.join(dir, 'node.key'))}
[interface]
name = "pimdash0"
mesh_ipv4_prefix = "10.77.0.0/16"
[transport]
listen_port = 0
bind = "127.0.0.1"
[discovery]
enabled = true
[trust]
store = ${JSON.stringify(path.join(dir, 'trust.json'))}
[rpc]
socket = ${JSON.stringify(path.join(dir, 'pim.sock'))}
[[peers]]
address = "192.0.2.7:9100"
public_key = "${alpha.publicKeyHex}"
label = "alpha"
[[peers]]
address = "192.0.2.8:9100"
public_key = "${beta.publicKeyHex}"
label = "beta"
`,
        { mode: 0o600 },
      ),
  });
  return { ...d, lan, alpha, beta };
}

/** Every notification a client receives, in order. */
function record(c: RpcClient): { method: string; params: Json }[] {
  const got: { method: string; params: Json }[] = [];
  c.onNotification((method, params) => got.push({ method, params: params as Json }));
  return got;
}

async function rpcCode(t: ExecutionContext, call: Promise<unknown>): Promise<number> {
  const err = (await t.throwsAsync(call, { instanceOf: RpcCallError })) as RpcCallError;
  return err.code;
}

/** A neighbour's advertisement arrives: its roles, nothing farther. */
function advert(w: World, id: Identity, roles: Role[] = []): void {
  w.fake.emit({ kind: 'control', publicKey: id.publicKeyHex, payload: encodeAdverts({ roles, ip: meshIp(id), routes: [] })[0]! });
}

function activate(w: World, id: Identity, rttMs?: number): void {
  w.fake.setPeer({ publicKey: id.publicKeyHex, meshIp: meshIp(id), endpoint: '192.0.2.7:9100', state: 'active', configured: true, lastHandshakeMs: 1000, lastReceivedMs: 500, ...(rttMs === undefined ? {} : { rttMs }), rxBytes: 0, txBytes: 0 });
}

const logLines = (got: { method: string; params: Json }[]): Json[] => got.filter((n) => n.method === 'logs.event').map((n) => n.params);

// ── logs ────────────────────────────────────────────────────────────────────

test('logs.subscribe {min_level}: the replay and the live lines are that level and above', async (t) => {
  const w = await start(t);
  const c = await w.client();
  const got = record(c);
  const r = await c.call<Json>('logs.subscribe', { min_level: 'warn', sources: [] });
  const expected = w.daemon.history.recent.filter((e) => ['warn', 'error', 'fatal'].includes(e.level)).length;
  t.is(r.replayed, expected);
  w.fake.emit({ kind: 'handshake_timeout', publicKey: w.alpha.publicKeyHex }); // a warn line
  w.daemon.logger.info({ event: 'test_info' }, 'an info line');
  await eventually(t, 'the live warn line', () => logLines(got).some((e) => /timeout/.test(e.message)));
  await delay(200);
  t.true(logLines(got).every((e) => e.level === 'warn' || e.level === 'error'), JSON.stringify(logLines(got)));
  t.false(logLines(got).some((e) => e.message === 'an info line'));
});

test('logs.subscribe {levels}: exactly those levels, whatever min_level says; {sources}: the source starts with one of them', async (t) => {
  const w = await start(t);
  const onlyInfo = await w.client();
  const gotInfo = record(onlyInfo);
  await onlyInfo.call('logs.subscribe', { min_level: 'error', levels: ['info'] });
  const otherSource = await w.client();
  const gotOther = record(otherSource);
  t.is((await otherSource.call<Json>('logs.subscribe', { sources: ['pim_transport'] })).replayed, 0);
  const ours = await w.client();
  const gotOurs = record(ours);
  const all = w.daemon.history.recent.length;
  t.is((await ours.call<Json>('logs.subscribe', { sources: ['pim-'] })).replayed, all);
  w.fake.emit({ kind: 'handshake_timeout', publicKey: w.alpha.publicKeyHex });
  w.daemon.logger.info({ event: 'test_info' }, 'an info line');
  await eventually(t, 'the info line', () => logLines(gotInfo).some((e) => e.message === 'an info line'));
  await eventually(t, 'both lines on the pim- subscription', () => logLines(gotOurs).length >= all + 2);
  t.true(logLines(gotInfo).length > 1 && logLines(gotInfo).every((e) => e.level === 'info'));
  t.deepEqual(logLines(gotOther), []);
});

test('logs.subscribe refuses levels pim-ui does not have and filters of the wrong type: -32602 naming the param', async (t) => {
  const w = await start(t);
  const c = await w.client();
  for (const [params, name] of [
    [{ min_level: 'fatal' }, 'min_level'],
    [{ levels: ['info', 'loud'] }, 'levels'],
    [{ levels: 'info' }, 'levels'],
    [{ sources: [7] }, 'sources'],
  ] as const) {
    const err = (await t.throwsAsync(c.call('logs.subscribe', params), { instanceOf: RpcCallError })) as RpcCallError;
    t.is(err.code, -32602, JSON.stringify(params));
    t.true(err.message.includes(name), err.message);
  }
});

test("a connection gets each log line once across its logs subscriptions: pim-ui's shell subscribes twice", async (t) => {
  const w = await start(t);
  const c = await w.client();
  const got = record(c);
  const warnUp = await c.call<Json>('logs.subscribe', { min_level: 'warn' });
  const everything = await c.call<Json>('logs.subscribe');
  const again = await c.call<Json>('logs.subscribe', { min_level: 'trace', sources: [] });
  const history = w.daemon.history.recent;
  t.is(warnUp.replayed + everything.replayed, history.length, 'the second replay is what the first left out');
  t.is(again.replayed, 0, 'the third adds nothing');
  w.fake.emit({ kind: 'handshake_timeout', publicKey: w.alpha.publicKeyHex });
  await eventually(t, 'the live line', () => logLines(got).some((e) => /timeout/.test(e.message)));
  await delay(200);
  const messages = logLines(got).map((e) => `${e.ts} ${e.message}`);
  t.is(new Set(messages).size, messages.length, 'no line twice');
  t.is(messages.length, history.length, 'every line once');
  // Unsubscribing one keeps the others.
  await c.call('logs.unsubscribe', { subscription_id: everything.subscription_id });
  w.daemon.logger.info({ event: 'test_info' }, 'still subscribed');
  await eventually(t, 'a line through the remaining subscription', () => logLines(got).some((e) => e.message === 'still subscribed'));
});

test('a fatal line is sent as level error: pim-ui has no fatal', async (t) => {
  const w = await start(t);
  const c = await w.client();
  const got = record(c);
  await c.call('logs.subscribe', { min_level: 'error' });
  w.fake.emit({ kind: 'fault', message: 'thread died' });
  await c.whenClosed();
  const line = logLines(got).find((e) => /data plane failed/.test(e.message));
  t.is(line?.level, 'error', JSON.stringify(logLines(got)));
  t.true(w.daemon.history.recent.some((e) => e.level === 'fatal' && /data plane failed/.test(e.message)), 'it was logged as fatal');
});

// ── events for pim-ui's shell ───────────────────────────────────────────────

test('gateway.event reaches a connection subscribed only to status, and once a connection subscribed to both', async (t) => {
  const w = await start(t, new FakeNetwork());
  const statusOnly = await w.client();
  const both = await w.client();
  const gotStatus = record(statusOnly);
  const gotBoth = record(both);
  await statusOnly.call('status.subscribe');
  await both.call('status.subscribe');
  await both.call('gateway.subscribe');
  await w.client().then((c) => c.call('gateway.enable', { nat_interface: 'ethfake0' }));
  await eventually(t, 'gateway.event on both', () => [gotStatus, gotBoth].every((g) => g.some((n) => n.method === 'gateway.event')));
  await delay(200);
  for (const got of [gotStatus, gotBoth]) {
    const ev = got.filter((n) => n.method === 'gateway.event');
    t.is(ev.length, 1);
    t.like(ev[0]!.params, { kind: 'enabled', detail: { nat_interface: 'ethfake0' } });
    t.deepEqual(got.find((n) => n.params.kind === 'role_changed')?.params.detail, { role: ['client', 'gateway'] });
  }
});

test("status.role: client; relay while routes go through two neighbours; gateway while the role is on; role_changed each time, and expired routes counted", async (t) => {
  const w = await start(t, new FakeNetwork());
  const c = await w.client();
  const got = record(c);
  await c.call('status.subscribe');
  const roles = async (): Promise<string[]> => (await c.call<Json>('status')).role;
  const changes = (): Json[] => got.filter((n) => n.params.kind === 'role_changed').map((n) => n.params.detail.role);
  t.deepEqual(await roles(), ['client']);
  activate(w, w.alpha);
  advert(w, w.alpha);
  t.deepEqual(await roles(), ['client'], 'one neighbour: nobody to relay for');
  activate(w, w.beta);
  advert(w, w.beta);
  t.deepEqual(await roles(), ['client', 'relay']);
  await c.call('gateway.enable', { nat_interface: 'ethfake0' });
  t.deepEqual(await roles(), ['client', 'relay', 'gateway']);
  w.fake.emit({ kind: 'disconnected', publicKey: w.beta.publicKeyHex });
  t.deepEqual(await roles(), ['client', 'gateway']);
  t.is((await c.call<Json>('status')).routes.expired, 1, "beta's route is held as unreachable");
  await c.call('gateway.disable');
  await eventually(t, 'four role changes', () => changes().length === 4);
  t.deepEqual(changes(), [['client', 'relay'], ['client', 'relay', 'gateway'], ['client', 'gateway'], ['client']]);
});

test('route.table gateways: score from 0 to 1, higher is better, from the latency (latency_ms beside it); 0 until measured', async (t) => {
  const w = await start(t);
  const c = await w.client();
  activate(w, w.alpha, 50);
  advert(w, w.alpha, ['gateway']);
  activate(w, w.beta);
  advert(w, w.beta, ['gateway']);
  const gateways = (await c.call<Json>('route.table')).gateways as Json[];
  const of = (id: Identity): Json | undefined => gateways.find((g) => g.node_id === id.nodeId);
  t.like(of(w.alpha), { score: 100 / 150, latency_ms: 50, hops: 1 });
  t.like(of(w.beta), { score: 0, latency_ms: null });
});

test('status.stats: dropped_reason names the counter with the most drops (null before any); conntrack_size is null', async (t) => {
  const w = await start(t);
  const c = await w.client();
  t.like((await c.call<Json>('status')).stats, { dropped: 0, dropped_reason: null, conntrack_size: null });
  w.lan.junk('192.0.2.60');
  w.lan.junk('192.0.2.61');
  t.like((await c.call<Json>('status')).stats, { dropped: 2, dropped_reason: 'discovery_malformed' });
  t.is(mostDropped({ b: 3, a: 3, c: 1 }), 'a', 'the first by name among equals');
  t.is(mostDropped({ a: 0 }), null);
});

// ── peers ───────────────────────────────────────────────────────────────────

test('a peer just paired has a last_seen_s: when its refused handshake was heard', async (t) => {
  const w = await start(t);
  const c = await w.client();
  const stranger = newIdentity();
  w.fake.emit({ kind: 'untrusted', publicKey: stranger.publicKeyHex, source: '192.0.2.44:9100' });
  const paired = await c.call<Json>('peers.pair', { node_id: stranger.nodeId, trust: 'persist' });
  checkPeerSummary(t, paired);
  t.is(paired.node_id, stranger.nodeId);
  t.is(paired.last_seen_s, 0);
  t.is(paired.last_handshake_s, null, 'no session yet');
});

test('peers.add_static {address, mechanism, label} without a key takes the key LAN discovery heard at that address', async (t) => {
  const w = await start(t);
  const c = await w.client();
  const heard = newIdentity();
  w.lan.announce(heard, '192.0.2.50');
  const r = await c.call<Json>('peers.add_static', { address: '192.0.2.50:9100', mechanism: 'tcp', label: 'from the lan' });
  t.deepEqual(r, { node_id: heard.nodeId, config_entry_id: `peers/${heard.nodeId}` });
  t.true(fs.readFileSync(w.configPath, 'utf8').includes(`public_key = "${heard.publicKeyHex}"`));
  const listed = (await c.call<Json[]>('peers.list')).find((p) => p.node_id === heard.nodeId);
  t.like(listed, { label: 'from the lan', static: true });
});

test('peers.add_static without a key: -32013 when no node (or more than one) was heard there; a bad address -32012; a mechanism other than tcp -32602', async (t) => {
  const w = await start(t);
  const c = await w.client();
  const before = fs.readFileSync(w.configPath, 'utf8');
  t.is(await rpcCode(t, c.call('peers.add_static', { address: '192.0.2.51:9100', mechanism: 'tcp' })), -32013);
  w.lan.announce(newIdentity(), '192.0.2.52');
  w.lan.announce(newIdentity(), '192.0.2.52');
  t.is(await rpcCode(t, c.call('peers.add_static', { address: '192.0.2.52:9100' })), -32013);
  t.is(await rpcCode(t, c.call('peers.add_static', { address: 'nowhere', mechanism: 'tcp' })), -32012);
  t.is(await rpcCode(t, c.call('peers.add_static', { address: '192.0.2.50:9100', mechanism: 'bluetooth', public_key: newIdentity().publicKeyHex })), -32602);
  t.is(fs.readFileSync(w.configPath, 'utf8'), before, 'the file is untouched');
});

// ── what pim does not serve ─────────────────────────────────────────────────

/** Methods in pim-ui's method map (rpc-types.ts at 273354f) that pim does not serve. */
const NOT_SERVED = [
  'peers.connect_dynamic',
  'peers.import_identity',
  'peers.broadcast_identity_now',
  'peers.set_broadcast_config',
  'peers.get_broadcast_state',
  'messages.list_conversations',
  'messages.history',
  'messages.send',
  'messages.mark_read',
  'messages.delete_conversation',
  'messages.delete_all',
  'messages.subscribe',
  'messages.unsubscribe',
];

test('the methods pim-ui calls that pim does not serve answer -32601 and are not advertised', async (t) => {
  const w = await start(t);
  const c = await w.client();
  for (const m of NOT_SERVED) {
    t.false(c.hello.features.includes(m), m);
    t.is(await rpcCode(t, c.call(m)), -32601, m);
  }
});
