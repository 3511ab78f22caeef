// Conformance of every method the daemon serves (the list comes from the
// features rpc.hello advertises) with docs/RPC.md: the
// real Daemon with the FakeEngine, over its real Unix control socket in a
// temp dir. Result shapes, the config file edits (comments kept byte for
// byte, atomic replacement, nothing touched on refusal), error codes and
// which connection receives which notification.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parse as parseToml } from '../ts/config/toml.js';
import type { Identity } from '../ts/identity/identity.js';
import { meshIpTextFor } from '../ts/identity/mesh-ip.js';
import { parseCidr } from '../ts/net/ipv4.js';
import { RpcCallError } from '../ts/rpc/client.js';
import { eventually, startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { newIdentity } from './helpers/keys.js';
import { FakeNetwork } from './helpers/network.js';
import { checkPeerSummary, isBool, isCount, isIso, isNumber, isString } from './helpers/rpc-shapes.js';

type Json = Record<string, any>;

// The daemon's file writes honour the process umask; fix it to the usual
// default so the mode checks below mean the same on every machine.
process.umask(0o022);

const MESH_PREFIX = '10.77.0.0/16';
/** The levels on the wire (pim-ui's): a fatal line is sent as an error. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

interface PeerEntry {
  id: Identity;
  address: string;
  label: string;
}

// ── the config file, in parts, so tests know exactly which lines are whose ──

function headText(dir: string, name = 'test-node', mtu = 1400): string {
  return `# pim conformance test config — a comment at the very top
# second header comment, with "quotes" and = signs = kept

[node]
name = "${name}"   # trailing comment on a key line

[security]
key_file = ${JSON.stringify(path.join(dir, 'node.key'))}

[interface]
# interface comment
name = "pimtest0"
mtu = ${mtu}
mesh_ipv4_prefix = "${MESH_PREFIX}"

[transport]
listen_port = 0
bind = "127.0.0.1"

[discovery]
enabled = false

[trust]
mode = "tofu"
store = ${JSON.stringify(path.join(dir, 'trust.json'))}

[rpc]
socket = ${JSON.stringify(path.join(dir, 'pim.sock'))}

`;
}

function peerText(p: PeerEntry, innerComment: string): string {
  return `[[peers]]
${innerComment}
address = "${p.address}"
public_key = "${p.id.publicKeyHex}"
label = "${p.label}"
`;
}

function fullText(dir: string, alpha: PeerEntry, beta: PeerEntry): { text: string; alphaBlock: string; betaBlock: string } {
  const alphaBlock = peerText(alpha, '# inside the alpha entry');
  const betaBlock = peerText(beta, '# inside the beta entry');
  const text = `${headText(dir)}# comment just before alpha
${alphaBlock}
# comment between alpha and beta
${betaBlock}
# comment after beta, before [log]
[log]
level = "debug"  # log comment
# the last line is a comment
`;
  return { text, alphaBlock, betaBlock };
}

interface Harness extends TestDaemon {
  network: FakeNetwork;
  alpha: PeerEntry;
  beta: PeerEntry;
  original: string;
  alphaBlock: string;
  betaBlock: string;
}

async function startDaemon(t: ExecutionContext): Promise<Harness> {
  const alpha: PeerEntry = { id: newIdentity(), address: '192.0.2.7:9100', label: 'alpha' };
  const beta: PeerEntry = { id: newIdentity(), address: '192.0.2.8:9100', label: 'beta' };
  const network = new FakeNetwork();
  let written = { text: '', alphaBlock: '', betaBlock: '' };
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-conformance-',
    writeConfig: (dir, configPath) => {
      written = fullText(dir, alpha, beta);
      fs.writeFileSync(configPath, written.text, { mode: 0o600 });
    },
    clientName: 'rpc-conformance-test',
    clientTimeoutMs: 8000,
    network,
  });
  return { ...d, network, alpha, beta, original: written.text, alphaBlock: written.alphaBlock, betaBlock: written.betaBlock };
}

/** A raw connection that records every line in arrival order (answers and notifications alike). */
class RawConn {
  readonly messages: Json[] = [];
  private buf = '';
  private nextId = 1;
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.messages.push(JSON.parse(this.buf.slice(0, nl)) as Json);
        this.buf = this.buf.slice(nl + 1);
      }
    });
  }

  static open(t: ExecutionContext, socketPath: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath, () => {
        const conn = new RawConn(s);
        t.teardown(() => void s.destroy());
        resolve(conn);
      });
      s.once('error', reject);
    });
  }

  send(method: string, params?: unknown): number {
    const id = this.nextId++;
    this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })}\n`);
    return id;
  }

  indexOfAnswer(id: number): number {
    return this.messages.findIndex((m) => m['id'] === id);
  }
}

const byKey = (list: Json[], key: string): Json | undefined => list.find((p) => p['x25519_pubkey'] === key);

async function rpcError(t: ExecutionContext, call: Promise<unknown>): Promise<RpcCallError> {
  const err = await t.throwsAsync(call, { instanceOf: RpcCallError });
  return err as RpcCallError;
}

const read = (file: string): string => fs.readFileSync(file, 'utf8');
const nonBlankLines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');
const tempFilesIn = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

/** Every line of `text` that is a comment or carries one. */
const commentLines = (text: string): string[] => text.split('\n').filter((l) => l.includes('#'));

// ── the method list ─────────────────────────────────────────────────────────

/** Every method this file exercises; the test below fails if the daemon serves one not listed. */
const COVERED = [
  'status',
  'peers.list',
  'peers.discovered',
  'peers.add_static',
  'peers.remove',
  'peers.pair',
  'peers.forget',
  'peers.ping',
  'route.table',
  'route.set_split_default',
  'gateway.preflight',
  'gateway.enable',
  'gateway.disable',
  'gateway.status',
  'config.get',
  'config.save',
  'status.subscribe',
  'status.unsubscribe',
  'peers.subscribe',
  'peers.unsubscribe',
  'gateway.subscribe',
  'gateway.unsubscribe',
  'logs.subscribe',
  'logs.unsubscribe',
  'daemon.stop',
  'daemon.metrics',
];

test('every method rpc.hello advertises is covered here, and each answers a valid call', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const features = c.hello.features;
  t.true(features.length > 0);
  t.deepEqual(features.filter((f) => !COVERED.includes(f)), [], 'advertised methods this conformance test does not cover');
  t.deepEqual(COVERED.filter((m) => !features.includes(m)), [], 'methods of docs/RPC.md the daemon does not advertise');
  // A smoke call of each read-only method: none answers an error.
  for (const m of ['status', 'peers.list', 'peers.discovered', 'route.table', 'gateway.status', 'gateway.preflight', 'config.get', 'daemon.metrics']) {
    await t.notThrowsAsync(c.call(m), m);
  }
});

// ── status, peers.list, peers.discovered ────────────────────────────────────

test('status: every field of docs/RPC.md with its type', async (t) => {
  const h = await startDaemon(t);
  const s = await (await h.client()).call<Json>('status');
  const keys = ['node', 'node_id', 'node_id_short', 'x25519_pubkey', 'mesh_ip', 'interface', 'role', 'transport', 'trust', 'peers', 'routes', 'stats', 'uptime_s', 'route_on', 'kill_switch', 'lockdown', 'started_at'];
  for (const k of keys) t.true(k in s, `status lacks ${k}`);
  t.is(s['node'], 'test-node');
  t.is(s['node_id'], h.daemon.identity.nodeId);
  t.is(s['node_id_short'], h.daemon.identity.nodeId.slice(0, 8));
  t.is(s['x25519_pubkey'], h.daemon.identity.publicKeyHex);
  t.is(s['mesh_ip'], meshIpTextFor(h.daemon.identity.nodeId, parseCidr(MESH_PREFIX)!));
  t.deepEqual(s['interface'], { name: 'pimtest0', up: true, mtu: 1400 });
  t.deepEqual(s['role'], ['client'], 'no gateway role, no routes to relay');
  t.true(isCount(s['transport']?.udp?.port));
  t.is(s['trust']?.mode, 'tofu');
  t.is(s['peers'].length, 2);
  for (const p of s['peers'] as Json[]) checkPeerSummary(t, p);
  t.true(isCount(s['routes']?.active));
  t.is(s['routes']?.expired, 0);
  t.true('selected_gateway' in s['routes']);
  for (const k of ['forwarded_bytes', 'forwarded_packets', 'dropped', 'congestion_drops']) t.true(isCount(s['stats']?.[k]), `stats.${k}`);
  t.true('dropped_reason' in s['stats'] && 'conntrack_size' in s['stats'], 'stats has dropped_reason and conntrack_size');
  t.true(isCount(s['uptime_s']));
  t.true(isBool(s['route_on']));
  t.true(isBool(s['kill_switch']));
  t.is(s['lockdown'], false, '[route] lockdown is off by default');
  t.true(isIso(s['started_at']));
});

test('peers.list: an array of PeerSummary, static peers labelled from the config', async (t) => {
  const h = await startDaemon(t);
  const list = await (await h.client()).call<Json[]>('peers.list');
  t.true(Array.isArray(list));
  t.is(list.length, 2);
  for (const p of list) checkPeerSummary(t, p);
  t.is(byKey(list, h.alpha.id.publicKeyHex)?.['label'], 'alpha');
  t.is(byKey(list, h.beta.id.publicKeyHex)?.['static'], true);
});

test('peers.discovered: [] (discovery is off / not running)', async (t) => {
  const h = await startDaemon(t);
  t.deepEqual(await (await h.client()).call('peers.discovered'), []);
});

// ── peers.add_static ────────────────────────────────────────────────────────

test('peers.add_static: {node_id, config_entry_id}; the file gains a [[peers]] entry, every byte before it kept; the engine gets the peer live', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const gamma = newIdentity();
  const snapshotBefore = h.fake.snapshot!;
  const inodeBefore = fs.statSync(h.configPath).ino;
  const r = await c.call<Json>('peers.add_static', { address: '192.0.2.9:9100', public_key: gamma.publicKeyHex, label: 'gamma' });
  t.deepEqual(Object.keys(r).sort(), ['config_entry_id', 'node_id']);
  t.is(r['node_id'], gamma.nodeId);
  t.true(isString(r['config_entry_id']) && r['config_entry_id'].length > 0);

  const after = read(h.configPath);
  t.true(after.startsWith(h.original), 'everything that was in the file is kept byte for byte, comments included');
  const added = after.slice(h.original.length);
  t.regex(added, /\[\[peers\]\]/);
  const parsed = parseToml(after) as Json;
  t.is(parsed['peers'].length, 3);
  t.deepEqual(parsed['peers'][2], { address: '192.0.2.9:9100', public_key: gamma.publicKeyHex, label: 'gamma' });
  t.not(fs.statSync(h.configPath).ino, inodeBefore, 'replaced by rename, not rewritten in place');
  t.is(fs.statSync(h.configPath).mode & 0o777, 0o600);
  t.deepEqual(tempFilesIn(h.dir), []);

  // Live: a new snapshot with the peer, and peers.list shows it, without a restart.
  const snap = h.fake.snapshot!;
  t.true(snap.version > snapshotBefore.version);
  const sp = snap.peers.find((p) => p.publicKey === gamma.publicKeyHex);
  t.truthy(sp, 'the engine snapshot has the new peer');
  t.is(sp?.endpoint, '192.0.2.9:9100');
  t.is(sp?.meshIp, meshIpTextFor(gamma.nodeId, parseCidr(MESH_PREFIX)!));
  t.true(h.fake.running);
  const row = byKey(await c.call<Json[]>('peers.list'), gamma.publicKeyHex);
  t.is(row?.['label'], 'gamma');
  t.is(row?.['static'], true);
});

test('peers.add_static without a label writes no label', async (t) => {
  const h = await startDaemon(t);
  const gamma = newIdentity();
  await (await h.client()).call('peers.add_static', { address: 'gw.example.invalid:9100', public_key: gamma.publicKeyHex });
  const parsed = parseToml(read(h.configPath)) as Json;
  t.deepEqual(parsed['peers'][2], { address: 'gw.example.invalid:9100', public_key: gamma.publicKeyHex });
});

test('peers.add_static: wrong types get -32602 naming the param; the file is untouched', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const key = newIdentity().publicKeyHex;
  const cases: [Json, string][] = [
    [{ address: '192.0.2.9:9100', public_key: 5 }, 'public_key'],
    [{ address: 5, public_key: key }, 'address'],
    [{ address: '192.0.2.9:9100', public_key: key, label: 7 }, 'label'],
    [{ public_key: key }, 'address'],
    [{ address: '192.0.2.9:9100', public_key: key, mechanism: 'wifi_direct' }, 'mechanism'],
    [{ address: '192.0.2.9:9100', public_key: 'abc' }, 'public_key'],
    [{ address: '192.0.2.9:9100', public_key: key.toUpperCase() }, 'public_key'],
    [{ address: '192.0.2.9:9100', public_key: key, colour: 'red' }, 'colour'],
  ];
  for (const [params, name] of cases) {
    const err = await rpcError(t, c.call('peers.add_static', params));
    t.is(err.code, -32602, JSON.stringify(params));
    t.true(err.message.includes(name), `${JSON.stringify(params)}: "${err.message}" names ${name}`);
  }
  t.is(read(h.configPath), h.original);
});

test('peers.add_static: a bad address gets -32012 and the file is untouched', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const key = newIdentity().publicKeyHex;
  for (const address of ['not an address', '192.0.2.9', '192.0.2.9:0', '192.0.2.9:70000', ':9100', '[2001:db8::1]:9100', '192.0.2.9:port']) {
    const err = await rpcError(t, c.call('peers.add_static', { address, public_key: key }));
    t.is(err.code, -32012, address);
  }
  t.is(read(h.configPath), h.original);
});

test('peers.add_static: a peer already configured gets -32011 and the file is untouched', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const err = await rpcError(t, c.call('peers.add_static', { address: '192.0.2.99:9100', public_key: h.alpha.id.publicKeyHex, label: 'again' }));
  t.is(err.code, -32011);
  t.is(read(h.configPath), h.original);
});

test('peers.add_static: two concurrent adds both persist (no lost update)', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const [g, d] = [newIdentity(), newIdentity()];
  const results = await Promise.allSettled([
    c.call('peers.add_static', { address: '192.0.2.20:9100', public_key: g.publicKeyHex, label: 'g' }),
    c.call('peers.add_static', { address: '192.0.2.21:9100', public_key: d.publicKeyHex, label: 'd' }),
  ]);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const keys = (parseToml(read(h.configPath)) as Json)['peers'].map((p: Json) => p['public_key']);
  // Whatever the daemon answered success for must be in the file.
  t.is(ok, 2, 'both adds were answered with success');
  t.true(keys.includes(g.publicKeyHex), 'the first added peer is in the file');
  t.true(keys.includes(d.publicKeyHex), 'the second added peer is in the file');
  const snapKeys = h.fake.snapshot!.peers.map((p) => p.publicKey);
  t.true(snapKeys.includes(g.publicKeyHex) && snapKeys.includes(d.publicKeyHex), 'both reach the engine');
});

// ── peers.remove ────────────────────────────────────────────────────────────

/** The original text without the lines of one [[peers]] block (header through last key). */
function withoutBlock(original: string, block: string): string {
  const header = block.split('\n')[0]!;
  const lines = block.trimEnd().split('\n');
  const at = original.indexOf(block);
  if (at < 0 || !header.startsWith('[[')) throw new Error('block not in the text');
  return original.slice(0, at) + original.slice(at + lines.join('\n').length + 1);
}

function checkRemoved(t: ExecutionContext, h: Harness, after: string, removed: string): void {
  const expected = withoutBlock(h.original, removed);
  t.deepEqual(nonBlankLines(after), nonBlankLines(expected), 'exactly the entry’s lines are gone; every other line is kept byte for byte');
  const removedComment = removed.split('\n').find((l) => l.startsWith('#'));
  for (const line of commentLines(h.original)) {
    if (line === removedComment) continue;
    t.true(after.split('\n').includes(line), `comment kept: ${line}`);
  }
  t.notThrows(() => parseToml(after));
}

test('peers.remove by node_id: null; the entry is gone from the file and the engine, comments outside it kept', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.is(await c.call('peers.remove', { node_id: h.alpha.id.nodeId }), null);
  const after = read(h.configPath);
  checkRemoved(t, h, after, h.alphaBlock);
  const peers = (parseToml(after) as Json)['peers'];
  t.deepEqual(peers.map((p: Json) => p['label']), ['beta']);
  t.deepEqual(h.fake.snapshot!.peers.map((p) => p.publicKey), [h.beta.id.publicKeyHex], 'the engine dropped it live');
  t.is(byKey(await c.call<Json[]>('peers.list'), h.alpha.id.publicKeyHex), undefined);
  t.deepEqual(tempFilesIn(h.dir), []);
});

test('peers.remove by an 8-hex node_id prefix works too', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.is(await c.call('peers.remove', { node_id: h.beta.id.nodeId.slice(0, 8) }), null);
  checkRemoved(t, h, read(h.configPath), h.betaBlock);
});

test('peers.remove by config_entry_id (as peers.add_static returned it): null; comments outside the entry kept', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const gamma = newIdentity();
  const { config_entry_id } = await c.call<Json>('peers.add_static', { address: '192.0.2.9:9100', public_key: gamma.publicKeyHex, label: 'gamma' });
  t.is(await c.call('peers.remove', { config_entry_id }), null);
  const after = read(h.configPath);
  t.deepEqual(nonBlankLines(after), nonBlankLines(h.original), 'back to the original file, comments and all');
  t.false(h.fake.snapshot!.peers.some((p) => p.publicKey === gamma.publicKeyHex));
});

test('peers.remove by the config_entry_id of the last [[peers]] entry keeps the [log] table and comments after it', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  // The id scheme is the daemon's: learn it from an add, then apply it to beta.
  const gamma = newIdentity();
  const { config_entry_id } = await c.call<Json>('peers.add_static', { address: '192.0.2.9:9100', public_key: gamma.publicKeyHex });
  await c.call('peers.remove', { config_entry_id });
  const betaEntryId = (config_entry_id as string).replace(gamma.nodeId, h.beta.id.nodeId);
  t.not(betaEntryId, config_entry_id);
  t.is(await c.call('peers.remove', { config_entry_id: betaEntryId }), null);
  const after = read(h.configPath);
  checkRemoved(t, h, after, h.betaBlock);
  t.is((parseToml(after) as Json)['log']?.['level'], 'debug');
});

test('peers.remove: an unknown peer gets -32010, wrong types -32602; the file is untouched', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.is((await rpcError(t, c.call('peers.remove', { node_id: newIdentity().nodeId }))).code, -32010);
  t.is((await rpcError(t, c.call('peers.remove', { config_entry_id: 'peers/0123456789abcdef0123456789abcdef' }))).code, -32010);
  for (const [params, name] of [
    [{ node_id: 5 }, 'node_id'],
    [{ config_entry_id: true }, 'config_entry_id'],
  ] as const) {
    const err = await rpcError(t, c.call('peers.remove', params));
    t.is(err.code, -32602);
    t.true(err.message.includes(name), err.message);
  }
  t.is((await rpcError(t, c.call('peers.remove', {}))).code, -32602, 'neither id given');
  t.is(read(h.configPath), h.original);
});

test('peers.remove removes the named peer even when the file was edited by hand since the daemon last read it', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  // The user adds a peer at the top of the peer list by hand and has not sent SIGHUP yet.
  const early = newIdentity();
  const handEdited = h.original.replace('# comment just before alpha\n', `# comment just before alpha\n[[peers]]\naddress = "192.0.2.30:9100"\npublic_key = "${early.publicKeyHex}"\nlabel = "early"\n\n`);
  t.not(handEdited, h.original);
  fs.writeFileSync(h.configPath, handEdited);
  await c.call('peers.remove', { node_id: h.alpha.id.nodeId });
  const keys = (parseToml(read(h.configPath)) as Json)['peers'].map((p: Json) => p['public_key']);
  t.false(keys.includes(h.alpha.id.publicKeyHex), 'alpha, the peer named, is gone from the file');
  t.true(keys.includes(early.publicKeyHex), 'the hand-added peer is kept');
  t.true(keys.includes(h.beta.id.publicKeyHex));
  t.log('peers left in the file:', (parseToml(read(h.configPath)) as Json)['peers'].map((p: Json) => p['label']));
});

// ── peers.pair / peers.forget ───────────────────────────────────────────────

test('peers.pair on a peer the engine reports: its PeerSummary, persisted in the trust store', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const stranger = newIdentity();
  h.fake.setPeer({ publicKey: stranger.publicKeyHex, meshIp: meshIpTextFor(stranger.nodeId, parseCidr(MESH_PREFIX)!), endpoint: '203.0.113.4:5555', state: 'active', configured: false, rxBytes: 0, txBytes: 0 });
  const r = await c.call<Json>('peers.pair', { node_id: stranger.nodeId, trust: 'persist' });
  checkPeerSummary(t, r);
  t.is(r['node_id'], stranger.nodeId);
  const store = JSON.parse(read(path.join(h.dir, 'trust.json'))) as Json;
  t.true(JSON.stringify(store).includes(stranger.nodeId), 'the pairing is persisted');
  // Also by short id, without trust.
  const r2 = await c.call<Json>('peers.pair', { node_id: stranger.nodeId.slice(0, 8) });
  t.is(r2['node_id'], stranger.nodeId);
});

test('peers.forget on a peer the engine reports: {forgot_identity: true, deleted_messages: 0, deleted_conversation: false}; its pin and session are gone', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const stranger = newIdentity();
  h.fake.setPeer({ publicKey: stranger.publicKeyHex, meshIp: meshIpTextFor(stranger.nodeId, parseCidr(MESH_PREFIX)!), endpoint: '203.0.113.4:5555', state: 'active', configured: false, rxBytes: 0, txBytes: 0 });
  await c.call('peers.pair', { node_id: stranger.nodeId });
  t.deepEqual(await c.call('peers.forget', { node_id: stranger.nodeId, also_delete_messages: true }), { forgot_identity: true, deleted_messages: 0, deleted_conversation: false });
  t.false(read(path.join(h.dir, 'trust.json')).includes(stranger.nodeId), 'the trust record is gone from disk');
  t.is(byKey(await c.call<Json[]>('peers.list'), stranger.publicKeyHex), undefined);
});

test('peers.pair / peers.forget: an unknown node_id gets -32010; wrong types -32602', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const unknown = newIdentity().nodeId;
  t.is((await rpcError(t, c.call('peers.pair', { node_id: unknown }))).code, -32010);
  t.is((await rpcError(t, c.call('peers.forget', { node_id: unknown }))).code, -32010);
  for (const [method, params, name] of [
    ['peers.pair', { node_id: 1 }, 'node_id'],
    ['peers.pair', { node_id: h.alpha.id.nodeId, trust: 'maybe' }, 'trust'],
    ['peers.forget', { node_id: [] }, 'node_id'],
    ['peers.forget', { node_id: h.alpha.id.nodeId, also_delete_messages: 'yes' }, 'also_delete_messages'],
    ['peers.forget', {}, 'node_id'],
  ] as const) {
    const err = await rpcError(t, c.call(method, params));
    t.is(err.code, -32602, `${method} ${JSON.stringify(params)}`);
    t.true(err.message.includes(name), err.message);
  }
});

// ── route.table, gateway.status ─────────────────────────────────────────────

test('route.table: {routes:[{destination, via, hops, learned_from, is_gateway, load, age_s}], gateways:[]}', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.deepEqual(await c.call('route.table'), { routes: [], gateways: [] }, 'no active peer, no route');
  const meshIp = meshIpTextFor(h.alpha.id.nodeId, parseCidr(MESH_PREFIX)!);
  h.fake.setPeer({ publicKey: h.alpha.id.publicKeyHex, meshIp, endpoint: h.alpha.address, state: 'active', configured: true, lastHandshakeMs: 4200, rxBytes: 1, txBytes: 1 });
  const table = await c.call<Json>('route.table');
  t.deepEqual(Object.keys(table).sort(), ['gateways', 'routes']);
  t.deepEqual(table['gateways'], []);
  t.is(table['routes'].length, 1);
  const r = table['routes'][0] as Json;
  t.deepEqual(Object.keys(r).sort(), ['age_s', 'destination', 'hops', 'is_gateway', 'learned_from', 'load', 'via']);
  t.is(r['destination'], `${meshIp}/32`);
  t.is(r['via'], h.alpha.id.nodeId);
  t.is(r['learned_from'], h.alpha.id.nodeId);
  t.is(r['load'], null);
  t.is(r['hops'], 1);
  t.is(r['is_gateway'], false);
  t.is(r['age_s'], 4);
});

test('gateway.status: {active, nat_interface, peers_through_me}', async (t) => {
  const h = await startDaemon(t);
  const g = await (await h.client()).call<Json>('gateway.status');
  for (const k of ['active', 'nat_interface', 'peers_through_me']) t.true(k in g, `gateway.status lacks ${k}`);
  t.is(g['active'], false);
  t.true(g['nat_interface'] === null || isString(g['nat_interface']));
  t.true(isCount(g['peers_through_me']));
  for (const k of Object.keys(g)) t.true(['active', 'nat_interface', 'conntrack', 'peers_through_me'].includes(k), `unexpected field ${k}`);
});

test('peers.ping: {node_id, node_id_short, mesh_ip, path, via, rtt_ms}; the engine\'s probe reply answers it; no reply in time is rtt_ms null', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const key = h.alpha.id.publicKeyHex;
  h.fake.setPeer({ publicKey: key, meshIp: '10.77.1.7', endpoint: h.alpha.address, state: 'active', configured: true, rxBytes: 0, txBytes: 0 });
  const pending = c.call<Json>('peers.ping', { node_id: h.alpha.id.nodeId.slice(0, 8), timeout_ms: 5000 });
  await eventually(t, 'the probe to reach the engine', () => h.fake.probed.includes(key));
  h.fake.emit({ kind: 'probe_reply', publicKey: key, rttMs: 3.25 });
  t.deepEqual(await pending, { node_id: h.alpha.id.nodeId, node_id_short: h.alpha.id.nodeId.slice(0, 8), mesh_ip: '10.77.1.7', path: 'direct', via: null, rtt_ms: 3.25 });
  const silent = await c.call<Json>('peers.ping', { node_id: h.alpha.id.nodeId, timeout_ms: 50 });
  t.is(silent['rtt_ms'], null, 'no reply within timeout_ms');
  t.is((await rpcError(t, c.call('peers.ping', { node_id: 'ffffffffffffffff' }))).code, -32010);
  t.is((await rpcError(t, c.call('peers.ping', { node_id: h.alpha.id.nodeId, timeout_ms: 0 }))).code, -32602);
});

test('gateway.preflight: {supported, platform, checks:[{name, ok, detail}], suggested_nat_interfaces}', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const p = await c.call<Json>('gateway.preflight');
  t.deepEqual(Object.keys(p).sort(), ['checks', 'platform', 'suggested_nat_interfaces', 'supported']);
  t.true(isBool(p['supported']));
  t.is(p['platform'], process.platform);
  t.true(Array.isArray(p['checks']) && p['checks'].length > 0);
  for (const check of p['checks'] as Json[]) {
    t.deepEqual(Object.keys(check).sort(), ['detail', 'name', 'ok']);
    t.true(isString(check['name']) && isBool(check['ok']) && isString(check['detail']));
  }
  t.true(Array.isArray(p['suggested_nat_interfaces']) && p['suggested_nat_interfaces'].every(isString));
  t.is((await rpcError(t, c.call('gateway.preflight', { nat_interface: 'x' }))).code, -32602);
});

test('gateway.enable / gateway.disable: {active, nat_interface, advertised_routes}; status and gateway.status follow; persisted, comments kept; gateway.event sent', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const events: Json[] = [];
  c.onNotification((method, params) => events.push({ method, params }));
  await c.call('gateway.subscribe');
  const on = await c.call<Json>('gateway.enable', { nat_interface: 'ethfake0' });
  t.deepEqual(on, { active: true, nat_interface: 'ethfake0', advertised_routes: ['0.0.0.0/0'] });
  const gs = await c.call<Json>('gateway.status');
  t.is(gs['active'], true);
  t.is(gs['nat_interface'], 'ethfake0');
  t.true(isCount(gs['peers_through_me']));
  t.true((await c.call<Json>('status'))['role'].includes('gateway'));
  t.true(h.network.calls.some((x) => x.startsWith('installGatewayNat(')), JSON.stringify(h.network.calls));
  const text = read(h.configPath);
  const parsed = parseToml(text) as Json;
  t.is(parsed['gateway']?.['enabled'], true);
  t.is(parsed['gateway']?.['nat_interface'], 'ethfake0');
  for (const line of commentLines(h.original)) t.true(text.split('\n').includes(line), `comment kept: ${line}`);
  await eventually(t, 'a gateway.event', () => events.some((e) => e['method'] === 'gateway.event'));
  const ev = events.find((e) => e['method'] === 'gateway.event')!['params'] as Json;
  t.true(isString(ev['kind']));
  t.true(isIso(ev['at']));
  t.true('detail' in ev);

  const off = await c.call<Json>('gateway.disable');
  t.deepEqual(Object.keys(off).sort(), ['active', 'advertised_routes', 'nat_interface']);
  t.is(off['active'], false);
  t.deepEqual(off['advertised_routes'], []);
  t.is((await c.call<Json>('gateway.status'))['active'], false);
  t.false((await c.call<Json>('status'))['role'].includes('gateway'));
  t.true(h.network.calls.some((x) => x === 'removeGatewayNat()'));
  t.is((parseToml(read(h.configPath)) as Json)['gateway']?.['enabled'], false);
  t.is((await rpcError(t, c.call('gateway.enable', { nat_interface: 5 }))).code, -32602);
});

test('a gateway follows its host networks: an address gained after enable is kept from the mesh by nftables and the engine within seconds; none after disable', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  await c.call('gateway.enable', { nat_interface: 'ethfake0' });
  t.deepEqual(h.fake.snapshot?.gatewayBlocked, ['192.0.2.10/32', '192.0.2.0/24']);
  // The host joins another network.
  h.network.hosts.push('10.9.0.7/32', '10.9.0.0/16');
  const want = ['192.0.2.10/32', '192.0.2.0/24', '10.9.0.7/32', '10.9.0.0/16'];
  const installed = (x: string): boolean => x.startsWith('installGatewayNat(') && x.includes('"lan":["192.0.2.10/32","192.0.2.0/24","10.9.0.7/32","10.9.0.0/16"]');
  await eventually(t, 'the NAT table guarding the new network', () => h.network.calls.some(installed), 15_000);
  await eventually(t, 'the engine blocking the new network', () => JSON.stringify(h.fake.snapshot?.gatewayBlocked) === JSON.stringify(want));

  await c.call('gateway.disable');
  const off = h.network.calls.length;
  h.network.hosts.push('172.16.4.0/24');
  // A check interval and more: nothing may follow a disabled role (a negative has no event to wait for).
  await new Promise((r) => setTimeout(r, 6_000));
  t.false(h.network.calls.slice(off).some((x) => x.startsWith('installGatewayNat(') || x.startsWith('hostNetworks(')), h.network.calls.slice(off).join('\n'));
});

test('a reload that changes [gateway] allow_lan reinstalls the NAT table with the new LAN guard, both ways', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  await c.call('gateway.enable', { nat_interface: 'ethfake0' });
  const nat = (): string[] => h.network.calls.filter((x) => x.startsWith('installGatewayNat('));
  t.true(nat().at(-1)!.includes('"lan":["192.0.2.10/32","192.0.2.0/24"]'), nat().join('\n'));
  for (const [allow, guard] of [[true, '"lan":null'], [false, '"lan":["192.0.2.10/32","192.0.2.0/24"]']] as const) {
    const before = nat().length;
    fs.writeFileSync(h.configPath, `${read(h.configPath).replace(/^allow_lan = .*\n/m, '')}`.replace('[gateway]\n', `[gateway]\nallow_lan = ${allow}\n`));
    t.true((await h.daemon.reload()).applied);
    t.is(nat().length, before + 1, `allow_lan = ${allow}: the table is installed again`);
    t.true(nat().at(-1)!.includes(guard), nat().at(-1));
  }
});

test('gateway.enable refuses an interface name that could reach ip or nft as anything but a name: -32602, nothing run', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const bad of ['eth0"; flush ruleset; "', '../../etc', 'a-name-longer-than-15', '', 'eth 0']) {
    const before = h.network.calls.length;
    const err = await rpcError(t, c.call('gateway.enable', { nat_interface: bad }));
    t.is(err.code, -32602, bad);
    t.regex(err.message, /interface name/, bad);
    t.is(h.network.calls.length, before, `nothing reached the OS network layer for ${JSON.stringify(bad)}`);
  }
  t.false((await c.call<Json>('gateway.status'))['active']);
});

test('gateway.enable when the preflight fails: -32030 with the checks as data; nothing changes', async (t) => {
  const h = await startDaemon(t);
  h.network.nft = false;
  const c = await h.client();
  const err = await rpcError(t, c.call('gateway.enable', { nat_interface: 'ethfake0' }));
  t.is(err.code, -32030);
  t.true(Array.isArray(err.data) && (err.data as Json[]).some((x) => x['ok'] === false), JSON.stringify(err.data));
  t.is((await c.call<Json>('gateway.status'))['active'], false);
  t.false(h.network.calls.some((x) => x.startsWith('installGatewayNat(')));
  t.is(read(h.configPath), h.original, 'the config file is untouched');
  const bad = await rpcError(t, c.call('gateway.enable', { nat_interface: 'nosuchif0' }));
  t.is(bad.code, -32030);
});

test('a gateway does not route its own internet via the mesh: route on while the gateway is on, and gateway.enable while routing is on, are -32032 and change nothing', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  await c.call('gateway.enable', { nat_interface: 'ethfake0' });
  const withGateway = read(h.configPath);
  const routeOn = await rpcError(t, c.call('route.set_split_default', { on: true }));
  t.is(routeOn.code, -32032);
  t.regex(routeOn.message, /a gateway cannot route its own internet via the mesh/);
  t.false(h.network.calls.some((x) => x.startsWith('installKillSwitch(') || x.startsWith('installSplitDefault(')), 'no route or block installed');
  t.is((await c.call<Json>('status'))['route_on'], false);
  t.is(read(h.configPath), withGateway, 'the config file is untouched');

  await c.call('gateway.disable');
  await c.call('route.set_split_default', { on: true });
  const withRoute = read(h.configPath);
  const calls = h.network.calls.length;
  const enable = await rpcError(t, c.call('gateway.enable', { nat_interface: 'ethfake0' }));
  t.is(enable.code, -32032);
  t.is((await c.call<Json>('gateway.status'))['active'], false);
  t.false(h.network.calls.slice(calls).some((x) => x.startsWith('installGatewayNat(')), 'no NAT installed');
  t.is(read(h.configPath), withRoute, 'the config file is untouched');
});

test('route.set_split_default: {on, via_gateway_id}; status.route_on follows; persisted with comments kept', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const on = await c.call<Json>('route.set_split_default', { on: true });
  t.deepEqual(Object.keys(on).sort(), ['on', 'via_gateway_id']);
  t.is(on['on'], true);
  t.is(on['via_gateway_id'], null, 'no gateway known');
  const s = await c.call<Json>('status');
  t.is(s['route_on'], true);
  t.is(s['kill_switch'], true, 'on without a gateway: blocking');
  t.true(h.network.calls.some((x) => x.startsWith('installKillSwitch(')));
  t.true(h.network.calls.some((x) => x.startsWith('installSplitDefault(')));
  const text = read(h.configPath);
  t.is((parseToml(text) as Json)['route']?.['internet_via_mesh'], true);
  for (const line of commentLines(h.original)) t.true(text.split('\n').includes(line), `comment kept: ${line}`);

  const off = await c.call<Json>('route.set_split_default', { on: false });
  t.deepEqual(off, { on: false, via_gateway_id: null });
  t.is((await c.call<Json>('status'))['route_on'], false);
  t.is((parseToml(read(h.configPath)) as Json)['route']?.['internet_via_mesh'], false);
  for (const params of [{ on: 'yes' }, {}]) {
    const err = await rpcError(t, c.call('route.set_split_default', params));
    t.is(err.code, -32602);
    t.true(err.message.includes('on'), err.message);
  }
});

test('daemon.metrics: {event_loop_delay_p50_ms, event_loop_delay_p99_ms, event_loop_delay_max_ms, rss_bytes, heap_used_bytes}', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const params of [undefined, { reset: true }, { reset: false }]) {
    const m = await c.call<Json>('daemon.metrics', params);
    t.deepEqual(Object.keys(m).sort(), ['event_loop_delay_max_ms', 'event_loop_delay_p50_ms', 'event_loop_delay_p99_ms', 'heap_used_bytes', 'rss_bytes']);
    for (const v of Object.values(m)) t.true(isNumber(v) && (v as number) >= 0);
    t.true(m['rss_bytes'] > 1024 * 1024);
  }
  t.is((await rpcError(t, c.call('daemon.metrics', { reset: 'yes' }))).code, -32602);
});

// ── config.get ──────────────────────────────────────────────────────────────

test('config.get: the TOML text by default, with source_path and an ISO last_modified', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const params of [undefined, { format: 'toml' }, { format: null }]) {
    const r = await c.call<Json>('config.get', params as Json | undefined);
    t.deepEqual(Object.keys(r).sort(), ['config', 'format', 'last_modified', 'source_path']);
    t.is(r['format'], 'toml');
    t.is(r['config'], h.original);
    t.is(r['source_path'], h.configPath);
    t.true(isIso(r['last_modified']), r['last_modified']);
    t.is(r['last_modified'], fs.statSync(h.configPath).mtime.toISOString());
  }
});

test('config.get {format: "json"}: the config as an object', async (t) => {
  const h = await startDaemon(t);
  const r = await (await h.client()).call<Json>('config.get', { format: 'json' });
  t.is(r['format'], 'json');
  t.true(typeof r['config'] === 'object' && r['config'] !== null && !Array.isArray(r['config']));
  t.deepEqual(r['config'], JSON.parse(JSON.stringify(parseToml(h.original))));
  t.is(r['config']['node']['name'], 'test-node');
  t.is(r['config']['interface']['mtu'], 1400);
  t.is(r['config']['peers'].length, 2);
  t.is(r['source_path'], h.configPath);
  t.true(isIso(r['last_modified']));
});

test('config.get: a wrong format gets -32602 naming format', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const format of [5, 'yaml']) {
    const err = await rpcError(t, c.call('config.get', { format }));
    t.is(err.code, -32602);
    t.true(err.message.includes('format'), err.message);
  }
});

// ── config.save ─────────────────────────────────────────────────────────────

test('config.save dry_run: saved false, the file untouched, requires_restart exactly the restart-only paths changed', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const before = fs.statSync(h.configPath);
  const snapshot = h.fake.snapshot;
  const gamma = newIdentity();
  // Changes: node.name and log.level and peers (live), interface.mtu and transport.listen_port (restart).
  const text = h.original
    .replace('name = "test-node"', 'name = "dry-run-name"')
    .replace('mtu = 1400', 'mtu = 1280')
    .replace('listen_port = 0', 'listen_port = 9555')
    .replace('level = "debug"', 'level = "info"')
    .concat(`[[peers]]\naddress = "192.0.2.9:9100"\npublic_key = "${gamma.publicKeyHex}"\n`);
  // With the format pim-ui names on every save.
  const r = await c.call<Json>('config.save', { format: 'toml', config: text, dry_run: true });
  t.is(r['saved'], false);
  t.true(Array.isArray(r['requires_restart']));
  t.deepEqual([...r['requires_restart']].sort(), ['interface.mtu', 'transport.listen_port']);
  t.true('written_to' in r);
  t.is(r['written_to'], null);
  t.is(read(h.configPath), h.original, 'the file is untouched');
  const afterStat = fs.statSync(h.configPath);
  t.is(afterStat.ino, before.ino);
  t.is(afterStat.mtimeMs, before.mtimeMs);
  t.is(h.fake.snapshot, snapshot, 'nothing applied');
  t.is((await c.call<Json>('status'))['node'], 'test-node');
  t.deepEqual(tempFilesIn(h.dir), []);
  // A dry run of the unchanged file needs no restart.
  t.deepEqual(await c.call('config.save', { config: h.original, dry_run: true }), { saved: false, requires_restart: [], written_to: null });
});

test('config.save: replaces the file atomically (new inode, mode kept, no temp file), applies the change live, reports what needs a restart', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  fs.chmodSync(h.configPath, 0o640);
  const before = fs.statSync(h.configPath);
  const text = h.original.replace('name = "test-node"', 'name = "saved-name"').replace('mtu = 1400', 'mtu = 1280');
  const r = await c.call<Json>('config.save', { config: text });
  t.is(r['saved'], true);
  t.deepEqual(r['requires_restart'], ['interface.mtu']);
  t.is(r['written_to'], h.configPath);
  t.is(read(h.configPath), text);
  const after = fs.statSync(h.configPath);
  t.not(after.ino, before.ino, 'a new file renamed into place');
  t.is(after.mode & 0o777, 0o640, 'mode preserved');
  t.deepEqual(tempFilesIn(h.dir), []);
  const s = await c.call<Json>('status');
  t.is(s['node'], 'saved-name', 'the live change is applied');
  t.is(s['interface'].mtu, 1400, 'the restart-only change waits for a restart');
  const got = await c.call<Json>('config.get');
  t.is(got['config'], text);
});

test('config.save changing trust.store: either listed in requires_restart or actually used from then on', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  const newStore = path.join(h.dir, 'trust-moved.json');
  const text = h.original.replace(JSON.stringify(path.join(h.dir, 'trust.json')), JSON.stringify(newStore));
  t.not(text, h.original);
  const r = await c.call<Json>('config.save', { config: text });
  t.is(r['saved'], true);
  if ((r['requires_restart'] as string[]).includes('trust.store')) {
    t.pass('reported as needing a restart');
    return;
  }
  // Claimed live: a pairing now must land in the new store.
  const stranger = newIdentity();
  h.fake.setPeer({ publicKey: stranger.publicKeyHex, meshIp: meshIpTextFor(stranger.nodeId, parseCidr(MESH_PREFIX)!), endpoint: '203.0.113.4:5555', state: 'active', configured: false, rxBytes: 0, txBytes: 0 });
  await c.call('peers.pair', { node_id: stranger.nodeId });
  t.true(fs.existsSync(newStore) && read(newStore).includes(stranger.nodeId), `requires_restart ${JSON.stringify(r['requires_restart'])} says trust.store applied live, so the pairing must be in ${newStore}`);
});

// With the umask 022 above, a group-writable config file loses its group
// write bit on every save.
test('config.save keeps a group-writable mode (0660) across the save', async (t) => {
  const h = await startDaemon(t);
  fs.chmodSync(h.configPath, 0o660);
  await (await h.client()).call('config.save', { config: h.original.replace('name = "test-node"', 'name = "x"') });
  t.is(fs.statSync(h.configPath).mode & 0o777, 0o660);
});

interface BadCase {
  title: string;
  text: (original: string) => string;
  line: (text: string) => number;
  path: string | RegExp;
}

/** The 1-based line of the first line of `text` that contains `needle`. */
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const BAD: BadCase[] = [
  {
    title: 'invalid TOML',
    text: (o) => o.replace('mtu = 1400', 'mtu = 1400\nbroken = "unterminated'),
    line: (s) => lineOf(s, 'broken = "unterminated'),
    path: '(toml)',
  },
  {
    title: 'a wrong type',
    text: (o) => o.replace('mtu = 1400', 'mtu = "large"'),
    line: (s) => lineOf(s, 'mtu = "large"'),
    path: 'interface.mtu',
  },
  {
    title: 'an unknown key',
    text: (o) => o.replace('enabled = false', 'enabled = false\nbogus_key = 1'),
    line: (s) => lineOf(s, 'bogus_key = 1'),
    path: 'discovery.bogus_key',
  },
  {
    title: 'a wrong type in a [[peers]] entry',
    text: (o) => o.replace('label = "beta"', 'label = 42'),
    line: (s) => lineOf(s, 'label = 42'),
    path: 'peers[1].label',
  },
];

for (const bad of BAD) {
  for (const dryRun of [false, true]) {
    test(`config.save with ${bad.title}${dryRun ? ' (dry_run)' : ''}: -32020 with data [{line, column, path, message}] at the right line; the file untouched`, async (t) => {
      const h = await startDaemon(t);
      const c = await h.client();
      const before = fs.statSync(h.configPath);
      const snapshot = h.fake.snapshot;
      const text = bad.text(h.original);
      t.not(text, h.original);
      const err = await rpcError(t, c.call('config.save', { config: text, ...(dryRun ? { dry_run: true } : {}) }));
      t.is(err.code, -32020);
      t.true(Array.isArray(err.data), JSON.stringify(err.data));
      const issues = err.data as Json[];
      t.true(issues.length >= 1);
      for (const i of issues) {
        t.deepEqual(Object.keys(i).sort(), ['column', 'line', 'message', 'path']);
        t.true(Number.isInteger(i['line']) && i['line'] >= 1);
        t.true(Number.isInteger(i['column']) && i['column'] >= 1);
        t.true(isString(i['message']) && i['message'].length > 0);
      }
      const first = issues[0]!;
      t.is(first['line'], bad.line(text), `points at the offending line: ${JSON.stringify(first)}`);
      if (typeof bad.path === 'string') t.is(first['path'], bad.path);
      t.is(read(h.configPath), h.original, 'the file is byte-for-byte untouched');
      const after = fs.statSync(h.configPath);
      t.is(after.ino, before.ino);
      t.is(after.mtimeMs, before.mtimeMs);
      t.deepEqual(tempFilesIn(h.dir), []);
      t.is(h.fake.snapshot, snapshot, 'nothing applied');
    });
  }
}

test('config.save: wrong param types get -32602 naming the param', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const [params, name] of [
    [{ config: 5 }, 'config'],
    [{}, 'config'],
    [{ config: h.original, dry_run: 'yes' }, 'dry_run'],
    [{ format: 'json', config: h.original }, 'format'],
    [{ format: 1, config: h.original }, 'format'],
  ] as const) {
    const err = await rpcError(t, c.call('config.save', params));
    t.is(err.code, -32602, JSON.stringify(params));
    t.true(err.message.includes(name), err.message);
  }
  t.is(read(h.configPath), h.original);
});

// ── subscriptions ───────────────────────────────────────────────────────────

for (const topic of ['status', 'peers', 'gateway', 'logs'] as const) {
  test(`${topic}.subscribe → {subscription_id}; ${topic}.unsubscribe with an id → null (an unknown one too); without an id -32602, the subscriptions kept`, async (t) => {
    const h = await startDaemon(t);
    const c = await h.client();
    const a = await c.call<Json>(`${topic}.subscribe`);
    t.true(isString(a['subscription_id']) && a['subscription_id'].length > 0);
    if (topic === 'logs') t.true(isCount(a['replayed']));
    else t.deepEqual(Object.keys(a), ['subscription_id']);
    const b = await c.call<Json>(`${topic}.subscribe`);
    t.not(b['subscription_id'], a['subscription_id'], 'each subscription has its own id');
    t.is(await c.call(`${topic}.unsubscribe`, { subscription_id: a['subscription_id'] }), null);
    t.is(await c.call(`${topic}.unsubscribe`, { subscription_id: a['subscription_id'] }), null, 'again: idempotent');
    for (const params of [{ subscription_id: null }, undefined, { subscription_id: 5 }]) {
      const err = await rpcError(t, c.call(`${topic}.unsubscribe`, params));
      t.is(err.code, -32602, JSON.stringify(params));
      t.true(err.message.includes('subscription_id'));
    }
    t.is(await c.call(`${topic}.unsubscribe`, { subscription_id: b['subscription_id'] }), null);
  });
}

test('peers.event reaches only the connections subscribed to peers, once each, and stops after unsubscribe', async (t) => {
  const h = await startDaemon(t);
  const peersConn = await h.client();
  const statusConn = await h.client();
  const got: { peers: Json[]; status: Json[] } = { peers: [], status: [] };
  peersConn.onNotification((method, params) => got.peers.push({ method, params }));
  statusConn.onNotification((method, params) => got.status.push({ method, params }));
  const first = await peersConn.call<Json>('peers.subscribe');
  const second = await peersConn.call<Json>('peers.subscribe'); // a second subscription: still one event per event
  await statusConn.call('status.subscribe');

  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.alpha.id.publicKeyHex });
  await eventually(t, 'the peers.event', () => got.peers.length > 0);
  // A connection's answers and notifications leave in order: anything the event sent has arrived once a later call is answered.
  await Promise.all([peersConn.call('status'), statusConn.call('status')]);
  t.is(got.peers.length, 1, 'one notification per event, however many subscriptions');
  const e = got.peers[0]!;
  t.is(e['method'], 'peers.event');
  t.is(e['params'].kind, 'pair_failed');
  t.is(e['params'].reason, 'timeout');
  t.true(isIso(e['params'].at));
  checkPeerSummary(t, e['params'].peer);
  t.is(e['params'].peer.x25519_pubkey, h.alpha.id.publicKeyHex);
  t.deepEqual(got.status.filter((n) => n['method'] === 'peers.event'), [], 'the status-only connection gets no peers.event');
  t.deepEqual(got.status, [], 'nor anything else for this event');

  // Dropping one of two subscriptions keeps the other.
  await peersConn.call('peers.unsubscribe', { subscription_id: first['subscription_id'] });
  h.fake.emit({ kind: 'connected', publicKey: h.alpha.id.publicKeyHex, endpoint: h.alpha.address, meshIp: '10.77.1.1' });
  await eventually(t, 'the second peers.event', () => got.peers.length > 1);
  t.is(got.peers[1]!['params'].kind, 'connected');

  // Dropping the last one: nothing more arrives.
  await peersConn.call('peers.unsubscribe', { subscription_id: second['subscription_id'] });
  h.fake.emit({ kind: 'disconnected', publicKey: h.alpha.id.publicKeyHex });
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.beta.id.publicKeyHex });
  await Promise.all([peersConn.call('status'), statusConn.call('status')]);
  t.is(got.peers.length, 2, 'nothing after unsubscribe');
  t.deepEqual(got.status, []);
});

test('status.event reaches a status subscriber (interface_down on stop) and not a peers-only one', async (t) => {
  const h = await startDaemon(t);
  const statusConn = await h.client();
  const peersConn = await h.client();
  const s: Json[] = [];
  const p: Json[] = [];
  statusConn.onNotification((method, params) => s.push({ method, params }));
  peersConn.onNotification((method, params) => p.push({ method, params }));
  await statusConn.call('status.subscribe');
  await peersConn.call('peers.subscribe');
  await h.daemon.stop();
  await statusConn.whenClosed();
  const down = s.find((n) => n['method'] === 'status.event' && n['params'].kind === 'interface_down');
  t.truthy(down, JSON.stringify(s));
  t.true(isIso(down?.['params'].at));
  t.deepEqual(down?.['params'].detail, { interface: 'pimtest0' });
  t.deepEqual(p.filter((n) => n['method'] === 'status.event'), []);
});

test('logs.subscribe: {subscription_id, replayed}; exactly `replayed` logs.event after the answer, each {ts, level, source, message, at}; then live ones', async (t) => {
  const h = await startDaemon(t);
  const raw = await RawConn.open(t, h.socket);
  raw.send('rpc.hello', { client: 'raw', rpc_version: 1 });
  const id = raw.send('logs.subscribe');
  await eventually(t, 'the logs.subscribe answer', () => raw.indexOfAnswer(id) >= 0);
  const at = raw.indexOfAnswer(id);
  const answer = raw.messages[at]!;
  t.deepEqual(Object.keys(answer['result']).sort(), ['replayed', 'subscription_id']);
  const replayed = answer['result'].replayed as number;
  // The history as it was when the subscription was made: later lines are appended after it.
  const history = h.daemon.history.recent.slice(0, replayed);
  t.true(isCount(replayed) && replayed > 0, 'the daemon has logged since start');
  t.true(isString(answer['result'].subscription_id));
  t.true(raw.messages.slice(0, at).every((m) => m['method'] !== 'logs.event'), 'nothing replayed before the answer');

  await eventually(t, `${replayed} replayed events`, () => raw.messages.length >= at + 1 + replayed);
  // Answers and notifications leave in order: what the subscription sent before this answer is all there is.
  const barrier = raw.send('status');
  await eventually(t, 'the status answer', () => raw.indexOfAnswer(barrier) >= 0);
  const afterBarrier = raw.indexOfAnswer(barrier) + 1;
  const events = raw.messages.slice(at + 1, afterBarrier - 1);
  t.is(events.length, replayed, 'exactly `replayed` notifications, no more');
  for (const e of events) {
    t.is(e['jsonrpc'], '2.0');
    t.is(e['method'], 'logs.event');
    t.false('id' in e, 'a notification has no id');
    const p = e['params'] as Json;
    for (const k of ['ts', 'level', 'source', 'message', 'at']) t.true(k in p, `logs.event lacks ${k}`);
    t.true(isIso(p['ts']), p['ts']);
    t.true(isIso(p['at']), p['at']);
    t.true(LOG_LEVELS.includes(p['level']), p['level']);
    t.true(isString(p['source']) && p['source'].length > 0);
    t.true(isString(p['message']));
  }
  // The replay is the history, oldest first.
  t.deepEqual(
    events.map((e) => e['params'].message),
    history.map((e) => e.message),
  );
  t.true(events.some((e) => /up: /.test(e['params'].message)), 'the start line is in the history');

  // Live: a new log line arrives after the replay.
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.alpha.id.publicKeyHex });
  await eventually(t, 'a live logs.event', () => raw.messages.length > afterBarrier);
  const live = raw.messages.slice(afterBarrier);
  const warn = live.find((m) => m['params']?.level === 'warn');
  t.truthy(warn, JSON.stringify(live));
  t.is(warn?.['method'], 'logs.event');
  t.regex(warn?.['params'].message, /timeout/);
  t.is(warn?.['params'].peer_id, h.alpha.id.nodeId);
  t.true(isIso(warn?.['params'].at));
  t.true(Date.parse(warn?.['params'].ts) >= Date.parse(events[events.length - 1]!['params'].ts));

  // After logs.unsubscribe, no more.
  const un = raw.send('logs.unsubscribe', { subscription_id: answer['result'].subscription_id });
  await eventually(t, 'the unsubscribe answer', () => raw.indexOfAnswer(un) >= 0);
  t.is(raw.messages[raw.indexOfAnswer(un)]!['result'], null);
  const count = raw.messages.length;
  h.fake.emit({ kind: 'handshake_timeout', publicKey: h.beta.id.publicKeyHex });
  const after = raw.send('status');
  await eventually(t, 'the status answer', () => raw.indexOfAnswer(after) >= 0);
  t.deepEqual(raw.messages.slice(count).filter((m) => m['method'] === 'logs.event'), [], 'no logs.event after unsubscribe');
});

// A regression test: the replay used to be sent from a setImmediate, so a
// line logged in between reached the client first (see the report).
test('logs.subscribe: a line logged while the subscription is being answered comes after the replayed history, never before it', async (t) => {
  const h = await startDaemon(t);
  const raw = await RawConn.open(t, h.socket);
  // hello, subscribe and a second hello in one write: the second hello logs a
  // (debug) line while the subscription's answer and replay are pending.
  const lines = [
    { jsonrpc: '2.0', id: 1, method: 'rpc.hello', params: { client: 'first', rpc_version: 1 } },
    { jsonrpc: '2.0', id: 2, method: 'logs.subscribe' },
    { jsonrpc: '2.0', id: 3, method: 'rpc.hello', params: { client: 'second-hello', rpc_version: 1 } },
  ];
  (raw as unknown as { socket: net.Socket }).socket.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  await eventually(t, 'the subscribe answer', () => raw.indexOfAnswer(2) >= 0);
  const replayed = raw.messages[raw.indexOfAnswer(2)]!['result'].replayed as number;
  await eventually(t, 'the replay and the live line', () => raw.messages.filter((m) => m['method'] === 'logs.event').length >= replayed + 1);
  const at = raw.indexOfAnswer(2);
  t.deepEqual(raw.messages.slice(0, at).filter((m) => m['method'] === 'logs.event').map((m) => m['params'].message), [], 'no logs.event before the subscribe answer');
  const events = raw.messages.filter((m) => m['method'] === 'logs.event');
  const history = h.daemon.history.recent.slice(0, replayed).map((e) => e.message);
  t.deepEqual(events.slice(0, replayed).map((e) => e['params'].message), history, 'the first `replayed` events are the history, in order');
  t.true(events.slice(replayed).length >= 1, 'the live line follows');
});

// ── generic errors ──────────────────────────────────────────────────────────

test('methods without params refuse unknown ones with -32602 naming them', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  for (const m of ['status', 'peers.list', 'peers.discovered', 'route.table', 'gateway.status', 'status.subscribe', 'logs.subscribe']) {
    const err = await rpcError(t, c.call(m, { bogus: 1 }));
    t.is(err.code, -32602, m);
    t.true(err.message.includes('bogus'), err.message);
  }
});

// ── daemon.stop ─────────────────────────────────────────────────────────────

test('daemon.stop: {stopping: true}, then the daemon stops and the socket goes', async (t) => {
  const h = await startDaemon(t);
  const c = await h.client();
  t.deepEqual(await c.call('daemon.stop'), { stopping: true });
  await c.whenClosed();
  await eventually(t, 'onStopped', () => h.stoppedWith.length > 0);
  t.deepEqual(h.stoppedWith, [0]);
  t.false(fs.existsSync(h.socket));
  t.false(h.fake.running);
});
