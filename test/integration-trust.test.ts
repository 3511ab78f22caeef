// The trust model end to end (docs/SECURITY.md, the README's CLI, docs/RPC.md):
// real daemons in two network namespaces A (198.18.0.1) and B (198.18.0.2)
// joined by a veth, each with its own key, config, trust store and socket,
// UDP 9100. TOFU pins on first use and refuses a changed identity at a pinned
// address with `untrusted peer ID` until `pim peers forget`; allow_list
// refuses unknown nodes until the list (SIGHUP) or `pim peers pair` trusts
// them; a wrong public key for the responder is `noise handshake rejected` on
// the responder and `timeout` on the initiator. A corrupt store is covered by
// test/trust-store.test.ts. Root only (CI runs as root).

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadIdentity } from '../ts/identity/identity.js';
import { generatePrivateKey, publicKeyFromPrivate } from '../ts/identity/keys.js';
import { nodeIdFromPublicKey } from '../ts/identity/node-id.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, waitUntil, writeConfig, type MeshNode, type StaticPeer } from '../ts/lab/mesh.js';
import { Lab, type LabProcess, type Node } from '../ts/lab/netns.js';
import { RpcClient } from '../ts/rpc/client.js';
import { labTests, pim } from './helpers/lab.js';

const labTest = labTests({ prefix: 'trust' });

const A_IP = '198.18.0.1';
const B_IP = '198.18.0.2';
const A_ADDR = `${A_IP}:9100`;
const B_ADDR = `${B_IP}:9100`;
/** Handshakes retry every ~1 s within a 5 s budget; a dead peer is noticed after 12 s. */
const PAIR_MS = 15_000;
const FAIL_MS = 20_000;

type Json = Record<string, any>;

interface Pair {
  na: Node;
  nb: Node;
  a: MeshNode;
  b: MeshNode;
}

async function twoNodes(lab: Lab): Promise<Pair> {
  const [na, nb] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(na, nb, { subnet: '198.18.0.0/24' });
  if (link.addrA !== A_IP || link.addrB !== B_IP) throw new Error(`unexpected link addresses ${link.addrA} ${link.addrB}`);
  const a = await prepareNode(lab, na, { label: 'alpha' });
  const b = await prepareNode(lab, nb, { label: 'bravo' });
  return { na, nb, a, b };
}

/** writeConfig, with extra keys in its [trust] table (a second [trust] table would be invalid TOML). */
function configure(m: MeshNode, peers: readonly StaticPeer[], trustLines: readonly string[] = []): void {
  writeConfig(m, peers, { label: m.label });
  const text = fs.readFileSync(m.configPath, 'utf8');
  if (!text.includes('\n[trust]\n')) throw new Error(`no [trust] table in ${m.configPath}`);
  fs.writeFileSync(m.configPath, text.replace('\n[trust]\n', `\n[trust]\n${trustLines.map((l) => `${l}\n`).join('')}`), { mode: 0o600 });
}

const allowList = (...nodeIds: string[]): string[] => ['mode = "allow_list"', `allow_list = [${nodeIds.map((id) => `"${id}"`).join(', ')}]`];

const peerA = (a: MeshNode, publicKey = a.publicKey): StaticPeer => ({ address: A_ADDR, publicKey, label: 'alpha' });

// ── the CLI ──────────────────────────────────────────────────────────────────

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The row of `pim peers` for this short id, once it shows `stateText` (e.g. `failed (timeout)`) as a whole column. */
function waitForPeersRow(m: MeshNode, shortId: string, stateText: string, timeoutMs: number): Promise<string> {
  const row = new RegExp(`^${shortId}\\s.*\\s${escape(stateText)}(\\s|$)`, 'm');
  let last = '';
  return waitUntil(`\`pim peers\` on ${m.label} to show ${shortId} as ${stateText}`, timeoutMs, async () => {
    const r = await pim(m, 'peers');
    last = r.stdout;
    if (r.code !== 0) throw new Error(`pim peers exited ${r.code}: ${r.stderr}`);
    return r.stdout.match(row)?.[0];
  }).catch((err: Error) => {
    throw new Error(`${err.message}; last output:\n${last}`);
  });
}

// ── pair_failed: the daemon log and, where the daemon has it, peers.subscribe ─

const logPath = (m: MeshNode): string => path.join(m.dir, 'daemon.log');

function logEntries(m: MeshNode): Json[] {
  let text: string;
  try {
    text = fs.readFileSync(logPath(m), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      const v = JSON.parse(line) as unknown;
      return typeof v === 'object' && v !== null ? [v as Json] : [];
    } catch {
      return [];
    }
  });
}

function waitForLog(m: MeshNode, what: string, match: (e: Json) => boolean, timeoutMs: number): Promise<Json> {
  return waitUntil(`${m.label}'s log to show ${what}`, timeoutMs, async () => logEntries(m).find(match)).catch((err: Error) => {
    const tail = fs.existsSync(logPath(m)) ? fs.readFileSync(logPath(m), 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
    throw new Error(`${err.message}; log tail:\n${tail}`);
  });
}

/** peers.event notifications from one daemon (docs/RPC.md `peers.subscribe`). */
class PeerEvents {
  readonly events: Json[] = [];

  static async open(t: ExecutionContext, m: MeshNode): Promise<PeerEvents> {
    const client = await RpcClient.connect(m.socketPath, { client: 'pim-trust-test' });
    t.teardown(() => client.close());
    const w = new PeerEvents();
    client.onNotification((method, params) => {
      if (method === 'peers.event') w.events.push(params as Json);
    });
    const r = await client.call<Json>('peers.subscribe');
    if (typeof r?.subscription_id !== 'string') throw new Error(`peers.subscribe answered ${JSON.stringify(r)}`);
    return w;
  }

  wait(what: string, match: (e: Json) => boolean, timeoutMs: number): Promise<Json> {
    return waitUntil(`peers.event ${what}`, timeoutMs, async () => this.events.find(match)).catch((err: Error) => {
      throw new Error(`${err.message}; events so far:\n${this.events.map((e) => JSON.stringify(e)).join('\n')}`);
    });
  }
}

interface FailureMatch {
  reason: 'untrusted peer ID' | 'noise handshake rejected' | 'timeout';
  nodeId?: string;
  endpoint?: string;
}

/**
 * `pair_failed` with exactly this reason: as a JSON log line, and as a
 * peers.event notification to `events` when given.
 */
async function expectPairFailed(t: ExecutionContext, m: MeshNode, events: PeerEvents | undefined, f: FailureMatch, timeoutMs = FAIL_MS): Promise<void> {
  const line = await waitForLog(
    m,
    `pair_failed ${JSON.stringify(f)}`,
    (e) => e.event === 'pair_failed' && e.reason === f.reason && (f.nodeId === undefined || e.peer_id === f.nodeId) && (f.endpoint === undefined || e.endpoint === f.endpoint),
    timeoutMs,
  );
  t.is(line.reason, f.reason);
  if (events !== undefined) {
    const ev = await events.wait(
      `pair_failed ${JSON.stringify(f)}`,
      (e) => e.kind === 'pair_failed' && (f.nodeId === undefined || e.peer?.node_id === f.nodeId) && (f.endpoint === undefined || e.peer?.endpoint === f.endpoint) && e.reason === f.reason,
      timeoutMs,
    );
    t.is(ev.reason, f.reason);
    t.false(Number.isNaN(Date.parse(ev.at as string)), 'at is a date');
  }
}

// ── traffic ──────────────────────────────────────────────────────────────────

const meshIp = async (m: MeshNode): Promise<string> => ((await rpcCall(m, 'status')) as Json).mesh_ip as string;
const rxPackets = async (m: MeshNode): Promise<number> => ((await rpcCall(m, 'status')) as Json).stats.rx_packets as number;

async function pingWorks(t: ExecutionContext, lab: Lab, from: Node, to: string): Promise<void> {
  const r = await lab.exec(from, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', to], { allowFailure: true, timeoutMs: 30_000 });
  t.is(r.code, 0, `ping ${to} from ${from.name}:\n${r.stdout}${r.stderr}`);
  t.regex(r.stdout, /5 packets transmitted, 5 received, 0% packet loss/);
}

async function pingFails(t: ExecutionContext, lab: Lab, from: Node, to: string): Promise<void> {
  const r = await lab.exec(from, 'ping', ['-c', '4', '-i', '0.3', '-W', '1', to], { allowFailure: true, timeoutMs: 30_000 });
  t.not(r.code, 0, `ping ${to} from ${from.name} must fail:\n${r.stdout}`);
  t.regex(r.stdout, / 0 received/);
}

// ── trust store file ─────────────────────────────────────────────────────────

function storeRecords(m: MeshNode): Json[] {
  const file = path.join(m.dir, 'trust.json');
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { peers: Json[] }).peers;
}

function waitForStoreRecord(m: MeshNode, nodeId: string, timeoutMs = 10_000): Promise<Json> {
  return waitUntil(`${m.label}'s trust store to hold ${nodeId}`, timeoutMs, async () => storeRecords(m).find((r) => r.node_id === nodeId));
}

/**
 * The trust tests signal their daemons; they also wait for `daemon_started`
 * in the log, so a signal never lands in the middle of a start.
 */
async function start(lab: Lab, m: MeshNode): Promise<LabProcess> {
  const proc = await startDaemon(lab, m);
  await proc.waitForOutput(/"event":"daemon_started"/, 20_000);
  return proc;
}

/** SIGTERM, and the daemon exits 0 (the daemon's contract: clean shutdown). */
async function stopCleanly(m: MeshNode, proc: LabProcess): Promise<void> {
  proc.kill('SIGTERM');
  const exit = await proc.waitExit(10_000);
  if (exit.code !== 0) throw new Error(`pim-daemon on ${m.label} did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}; its output:\n${proc.output()}`);
}

/** Stops the daemon, then gives the node a new identity in the same dir (same config, address and port). */
async function restartWithNewKey(lab: Lab, m: MeshNode, proc: LabProcess): Promise<{ m: MeshNode; proc: LabProcess }> {
  await stopCleanly(m, proc);
  const keyFile = path.join(m.dir, 'node.key');
  fs.rmSync(keyFile);
  const identity = loadIdentity(keyFile);
  const next: MeshNode = { ...m, publicKey: identity.publicKeyHex, nodeId: identity.nodeId };
  return { m: next, proc: await start(lab, next) };
}

const shortOf = (m: MeshNode): string => m.nodeId.slice(0, 8);

// ── 1. TOFU first use ────────────────────────────────────────────────────────

labTest('TOFU: a peer that dials in is trusted on first use, listed active (not static) and pinned at its endpoint', async (t, lab) => {
  const { a, b } = await twoNodes(lab);
  configure(a, []);
  configure(b, [peerA(a)]);
  await Promise.all([start(lab, a), start(lab, b)]);

  const row = await waitForPeerState(a, b, 'active', PAIR_MS);
  t.is(row.static, false, 'B dialled in: not a static peer of A');
  t.is(row.endpoint, B_ADDR);
  t.is(row.last_error, null);
  const back = await waitForPeerState(b, a, 'active', PAIR_MS);
  t.is(back.static, true);

  const pinned = await waitForStoreRecord(a, b.nodeId);
  t.like(pinned, { node_id: b.nodeId, public_key: b.publicKey, endpoint: B_ADDR, source: 'tofu' });
  t.false(Number.isNaN(Date.parse(pinned.first_seen as string)));
  t.is(fs.statSync(path.join(a.dir, 'trust.json')).mode & 0o777, 0o600);
  await waitForLog(a, 'peer_pinned', (e) => e.event === 'peer_pinned' && e.peer_id === b.nodeId && e.endpoint === B_ADDR, 5_000);

  const rows = await pim(a, 'peers');
  t.is(rows.code, 0, rows.stderr);
  t.regex(rows.stdout, new RegExp(`^${shortOf(b)}\\s.*\\bactive\\b`, 'm'));
});

// ── 2 + 3. a new key at a pinned address; `pim peers forget` ─────────────────

labTest('TOFU: a new key at a pinned address is refused with `untrusted peer ID` and passes no traffic; `pim peers forget` lets it pair', async (t, lab) => {
  const { nb, a, b: oldB } = await twoNodes(lab);
  configure(a, []);
  configure(oldB, [peerA(a)]);
  const [, pb] = await Promise.all([start(lab, a), start(lab, oldB)]);
  await waitForPeerState(a, oldB, 'active', PAIR_MS);
  await waitForStoreRecord(a, oldB.nodeId);
  const events = await PeerEvents.open(t, a);
  const meshA = await meshIp(a);

  // 2. B comes back with a new identity at the same address and port.
  const { m: newB } = await restartWithNewKey(lab, oldB, pb);
  t.not(newB.nodeId, oldB.nodeId);
  await expectPairFailed(t, a, events, { reason: 'untrusted peer ID', nodeId: newB.nodeId, endpoint: B_ADDR });
  const stillPinned = storeRecords(a);
  t.deepEqual(
    stillPinned.map((r) => [r.node_id, r.endpoint]),
    [[oldB.nodeId, B_ADDR]],
    'the pin is unchanged: the new key was not trusted',
  );

  const rxBefore = await rxPackets(a);
  await pingFails(t, lab, nb, meshA);
  t.is(await rxPackets(a), rxBefore, 'A received no tunnel traffic from the new key');
  t.false(((await rpcCall(a, 'peers.list')) as Json[]).some((p) => p.node_id === newB.nodeId && p.state === 'active'));

  // The old identity's row says why B is not connected (its state: see the test below).
  const oldRow = await waitForPeersRow(a, shortOf(oldB), '(untrusted peer ID)', FAIL_MS);
  t.true(oldRow.includes(B_ADDR), oldRow);
  const oldListed = ((await rpcCall(a, 'peers.list')) as Json[]).find((p) => p.node_id === oldB.nodeId);
  t.is(oldListed?.last_error, 'untrusted peer ID');
  t.not(oldListed?.state, 'active');

  // 3. The resolution path: forget the old identity on the rejecting side.
  const forgot = await pim(a, 'peers', 'forget', shortOf(oldB));
  t.is(forgot.code, 0, forgot.stderr);
  t.is(forgot.stderr, '');
  await waitForLog(a, 'peer_forgotten', (e) => e.event === 'peer_forgotten' && e.peer_id === oldB.nodeId, 5_000);

  const row = await waitForPeerState(a, newB, 'active', PAIR_MS);
  t.is(row.endpoint, B_ADDR);
  await waitForPeerState(newB, a, 'active', PAIR_MS);
  await pingWorks(t, lab, nb, meshA);
  t.true((await rxPackets(a)) > rxBefore);

  const list = (await rpcCall(a, 'peers.list')) as Json[];
  t.false(list.some((p) => p.node_id === oldB.nodeId), 'the old identity is gone from the list');
  const pin = await waitForStoreRecord(a, newB.nodeId);
  t.like(pin, { endpoint: B_ADDR, source: 'tofu', public_key: newB.publicKey });
  t.false(storeRecords(a).some((r) => r.node_id === oldB.nodeId), 'the old pin is gone from the store');
});

labTest('TOFU: after a new key is refused at its address, the old identity\'s row reads `failed (untrusted peer ID)`', async (t, lab) => {
  const { a, b: oldB } = await twoNodes(lab);
  configure(a, []);
  configure(oldB, [peerA(a)]);
  const [, pb] = await Promise.all([start(lab, a), start(lab, oldB)]);
  await waitForPeerState(a, oldB, 'active', PAIR_MS);
  await waitForStoreRecord(a, oldB.nodeId);
  const { m: newB } = await restartWithNewKey(lab, oldB, pb);
  await expectPairFailed(t, a, undefined, { reason: 'untrusted peer ID', nodeId: newB.nodeId, endpoint: B_ADDR });
  // Past the 12 s dead-peer bound, so the old session is certainly gone.
  const row = await waitForPeersRow(a, shortOf(oldB), 'failed (untrusted peer ID)', FAIL_MS);
  t.true(row.includes(B_ADDR), row);
  const listed = ((await rpcCall(a, 'peers.list')) as Json[]).find((p) => p.node_id === oldB.nodeId);
  t.like(listed, { state: 'failed', last_error: 'untrusted peer ID' });
});

labTest('TOFU: forgetting an unknown id fails with exit 1 and changes nothing', async (t, lab) => {
  const { a, b } = await twoNodes(lab);
  configure(a, []);
  configure(b, [peerA(a)]);
  await Promise.all([start(lab, a), start(lab, b)]);
  await waitForPeerState(a, b, 'active', PAIR_MS);
  await waitForStoreRecord(a, b.nodeId);
  const unknown = nodeIdFromPublicKey(publicKeyFromPrivate(generatePrivateKey())).slice(0, 8);
  const r = await pim(a, 'peers', 'forget', unknown);
  t.is(r.code, 1, r.stdout);
  t.regex(r.stderr, /^pim: no peer has node_id /);
  const tooShort = await pim(a, 'peers', 'forget', shortOf(b).slice(0, 5));
  t.is(tooShort.code, 2, tooShort.stderr);
  t.true(storeRecords(a).some((p) => p.node_id === b.nodeId), 'the pin is still there');
  await waitForPeerState(a, b, 'active', 2_000);
});

labTest('TOFU: the pin survives a restart of the pinning daemon; `pim peers pair` of the new key replaces the old pin', async (t, lab) => {
  const { nb, a, b: oldB } = await twoNodes(lab);
  configure(a, []);
  configure(oldB, [peerA(a)]);
  const [pa, pb] = await Promise.all([start(lab, a), start(lab, oldB)]);
  await waitForPeerState(a, oldB, 'active', PAIR_MS);
  await waitForStoreRecord(a, oldB.nodeId);

  // A restarts (same key, same store): the pin is read back from the store.
  await stopCleanly(a, pa);
  const { m: newB } = await restartWithNewKey(lab, oldB, pb);
  await start(lab, a);
  const events = await PeerEvents.open(t, a);
  const meshA = await meshIp(a);
  await expectPairFailed(t, a, events, { reason: 'untrusted peer ID', nodeId: newB.nodeId, endpoint: B_ADDR });
  await pingFails(t, lab, nb, meshA);
  // Here the old identity is only in the store (the engine never held it since the restart).
  const oldRow = await waitForPeersRow(a, shortOf(oldB), 'failed (untrusted peer ID)', FAIL_MS);
  t.true(oldRow.includes(B_ADDR), oldRow);
  await waitForPeersRow(a, shortOf(newB), 'failed (untrusted peer ID)', FAIL_MS);

  // Pairing the refused key is the other way to trust it: it displaces the pin at that address.
  const paired = await pim(a, 'peers', 'pair', newB.nodeId);
  t.is(paired.code, 0, paired.stderr);
  t.regex(paired.stdout, new RegExp(`^pim: paired with ${newB.nodeId} `));
  await waitForPeerState(a, newB, 'active', PAIR_MS);
  await pingWorks(t, lab, nb, meshA);
  const records = storeRecords(a);
  t.deepEqual(
    records.map((r) => [r.node_id, r.endpoint, r.source]),
    [[newB.nodeId, B_ADDR, 'paired']],
    'the new key is paired at the address and the old pin is gone',
  );
  t.false(((await rpcCall(a, 'peers.list')) as Json[]).some((p) => p.node_id === oldB.nodeId), 'the displaced identity is no longer listed');
});

// ── 4. allow_list ────────────────────────────────────────────────────────────

labTest('allow_list: an unlisted peer is refused with `untrusted peer ID`; listing it and SIGHUP lets it pair', async (t, lab) => {
  const { nb, a, b } = await twoNodes(lab);
  configure(a, [], allowList());
  configure(b, [peerA(a)]);
  const [pa] = await Promise.all([start(lab, a), start(lab, b)]);
  const events = await PeerEvents.open(t, a);
  const meshA = await meshIp(a);

  await expectPairFailed(t, a, events, { reason: 'untrusted peer ID', nodeId: b.nodeId, endpoint: B_ADDR });
  const row = await waitForPeersRow(a, shortOf(b), 'failed (untrusted peer ID)', FAIL_MS);
  t.true(row.includes(B_ADDR), row);
  const listed = ((await rpcCall(a, 'peers.list')) as Json[]).find((p) => p.node_id === b.nodeId);
  t.like(listed, { state: 'failed', last_error: 'untrusted peer ID', static: false, endpoint: B_ADDR });
  const rxBefore = await rxPackets(a);
  await pingFails(t, lab, nb, meshA);
  t.is(await rxPackets(a), rxBefore);
  t.deepEqual(storeRecords(a), [], 'allow_list mode pins nothing');

  configure(a, [], allowList(b.nodeId));
  pa.kill('SIGHUP');
  await waitForLog(a, 'reloaded', (e) => e.event === 'reloaded', 10_000);
  await waitForPeerState(a, b, 'active', PAIR_MS);
  await waitForPeerState(b, a, 'active', PAIR_MS);
  await pingWorks(t, lab, nb, meshA);
  t.is(((await rpcCall(a, 'status')) as Json).trust.mode, 'allow_list');
});

labTest('allow_list: `pim peers pair` trusts a refused peer (persisted as paired) and they connect', async (t, lab) => {
  const { nb, a, b } = await twoNodes(lab);
  configure(a, [], allowList());
  configure(b, [peerA(a)]);
  await Promise.all([start(lab, a), start(lab, b)]);
  const meshA = await meshIp(a);

  await expectPairFailed(t, a, await PeerEvents.open(t, a), { reason: 'untrusted peer ID', nodeId: b.nodeId, endpoint: B_ADDR });
  await waitForPeersRow(a, shortOf(b), 'failed (untrusted peer ID)', FAIL_MS);

  const paired = await pim(a, 'peers', 'pair', shortOf(b));
  t.is(paired.code, 0, paired.stderr);
  t.regex(paired.stdout, new RegExp(`^pim: paired with ${b.nodeId} \\((active|connecting|failed)\\)\\n$`));

  const record = await waitForStoreRecord(a, b.nodeId, 5_000);
  t.like(record, { node_id: b.nodeId, public_key: b.publicKey, source: 'paired', endpoint: B_ADDR });
  const row = await waitForPeerState(a, b, 'active', PAIR_MS);
  t.is(row.last_error, null);
  await waitForPeerState(b, a, 'active', PAIR_MS);
  await pingWorks(t, lab, nb, meshA);
  await waitForLog(a, 'peer_paired', (e) => e.event === 'peer_paired' && e.peer_id === b.nodeId, 5_000);
});

// ── 5. a wrong public key for the responder ──────────────────────────────────

labTest('a wrong public key for the peer: the responder reports `noise handshake rejected` from B, the initiator `timeout`', async (t, lab) => {
  const { nb, a, b } = await twoNodes(lab);
  const wrongKey = publicKeyFromPrivate(generatePrivateKey()).toString('hex');
  const wrongId = nodeIdFromPublicKey(Buffer.from(wrongKey, 'hex'));
  configure(a, []);
  configure(b, [peerA(a, wrongKey)]);
  await start(lab, a);
  const events = await PeerEvents.open(t, a);
  await start(lab, b);
  const bEvents = await PeerEvents.open(t, b);
  const meshA = await meshIp(a);

  await expectPairFailed(t, a, events, { reason: 'noise handshake rejected', endpoint: B_ADDR });
  await expectPairFailed(t, b, bEvents, { reason: 'timeout', nodeId: wrongId });
  const row = await waitForPeersRow(b, wrongId.slice(0, 8), 'failed (timeout)', FAIL_MS);
  t.true(row.includes(A_ADDR), row);
  t.regex(row, /\balpha\b/, 'the configured label');

  t.false(((await rpcCall(a, 'peers.list')) as Json[]).some((p) => p.state === 'active'), 'A has no session with anyone');
  t.deepEqual(storeRecords(a), [], 'nothing pinned on A');
  const rxBefore = await rxPackets(a);
  await pingFails(t, lab, nb, meshA);
  t.is(await rxPackets(a), rxBefore);
});

// ── the signals the trust tests rely on, right after start ───────────────────

labTest('SIGTERM as soon as the control socket answers stops the daemon cleanly (exit 0, socket removed)', async (t, lab) => {
  const node = await lab.addNode('a');
  const a = await prepareNode(lab, node, { label: 'alpha' });
  configure(a, []);
  const proc = await startDaemon(lab, a);
  proc.kill('SIGTERM');
  const exit = await proc.waitExit(10_000);
  t.deepEqual(exit, { code: 0, signal: null }, proc.output());
  t.false(fs.existsSync(a.socketPath), 'no control socket left behind');
});

// Same cause (ts/daemon/run.ts:22): a SIGHUP (reload, as after editing
// [trust] allow_list) that arrives before the handler exists terminates the
// daemon. Expected: the daemon keeps running (and reloads).
labTest('SIGHUP as soon as the control socket answers does not stop the daemon', async (t, lab) => {
  const node = await lab.addNode('a');
  const a = await prepareNode(lab, node, { label: 'alpha' });
  configure(a, []);
  const proc = await startDaemon(lab, a);
  proc.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 1_500));
  t.is(proc.exitStatus, undefined, `the daemon died: ${JSON.stringify(proc.exitStatus)}\n${proc.output()}`);
  t.is(((await rpcCall(a, 'status')) as Json).node, 'alpha');
});
