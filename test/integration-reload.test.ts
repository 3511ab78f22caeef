// Live config changes on a running mesh: three real daemons in namespaces,
// A linked to B and to C by veth pairs. A and B are static peers with a ping
// running between them; then C is added to A's config (by editing the file
// and sending SIGHUP, or with `pim peers add`) and later removed (`pim peers
// remove`). C must connect within 15 s and the A→B ping must lose nothing: a
// reload keeps established sessions. Root only (CI runs as root).

import * as fs from 'node:fs';
import { DAEMON_JS, prepareNode, rpcCall, startDaemon, waitForPeerState, waitUntil, writeConfig, type MeshNode } from '../ts/lab/mesh.js';
import { Lab, type LabProcess, type Link, type Node } from '../ts/lab/netns.js';
import { RpcClient } from '../ts/rpc/client.js';
import { labTests, pim } from './helpers/lab.js';

const labTest = labTests({ prefix: 'reload' });

/** The daemon still answers on its control socket (a status call within 3 s). */
async function answers(m: MeshNode): Promise<boolean> {
  try {
    const c = await RpcClient.connect(m.socketPath, { client: 'reload-test', timeoutMs: 3000 });
    try {
      await c.call('status');
      return true;
    } finally {
      await c.close();
    }
  } catch {
    return false;
  }
}

interface Mesh {
  a: MeshNode;
  b: MeshNode;
  c: MeshNode;
  na: Node;
  nb: Node;
  nc: Node;
  ab: Link;
  ac: Link;
  pa: LabProcess;
  bMesh: string;
}

type PeerRow = { node_id: string; state: string; static: boolean; label: string | null };

const peersOf = async (m: MeshNode): Promise<PeerRow[]> => (await rpcCall(m, 'peers.list')) as PeerRow[];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A—B and A—C links; A and B static peers of each other, both running and
 * connected. C's config (with A as static peer, or none) is written but C is
 * not started.
 */
async function mesh(lab: Lab, cKnowsA: boolean): Promise<Mesh> {
  const [na, nb, nc] = await Promise.all([lab.addNode('a'), lab.addNode('b'), lab.addNode('c')]);
  const ab = await lab.link(na, nb, { subnet: '198.18.11.0/24' });
  const ac = await lab.link(na, nc, { subnet: '198.18.12.0/24' });
  const a = await prepareNode(lab, na, { label: 'alpha' });
  const b = await prepareNode(lab, nb, { label: 'bravo' });
  const c = await prepareNode(lab, nc, { label: 'charlie' });
  writeConfig(a, [{ address: `${ab.addrB}:9100`, publicKey: b.publicKey, label: 'bravo' }], { label: 'alpha' });
  writeConfig(b, [{ address: `${ab.addrA}:9100`, publicKey: a.publicKey, label: 'alpha' }], { label: 'bravo' });
  writeConfig(c, cKnowsA ? [{ address: `${ac.addrA}:9100`, publicKey: a.publicKey, label: 'alpha' }] : [], { label: 'charlie' });
  const [pa] = await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  // The socket answers before the start is complete; SIGHUP is handled only after it (see the last test).
  await pa.waitForOutput(/"event":"daemon_started"/, 15_000);
  await waitForPeerState(a, b, 'active', 15_000);
  await waitForPeerState(b, a, 'active', 15_000);
  const bMesh = ((await rpcCall(b, 'status')) as { mesh_ip: string }).mesh_ip;
  return { a, b, c, na, nb, nc, ab, ac, pa, bMesh };
}

/** `ping -i 0.2 -c 50` (10 s) from A to B's mesh IP, in the background, once the first reply is in. */
async function startPing(lab: Lab, m: Mesh): Promise<LabProcess> {
  const ping = lab.spawn(m.na, 'ping', ['-i', '0.2', '-c', '50', '-W', '2', m.bMesh]);
  await ping.waitForOutput(/bytes from/, 5_000);
  return ping;
}

async function pingResult(ping: LabProcess): Promise<{ sent: number; received: number; summary: string }> {
  await ping.waitExit(40_000);
  const out = ping.output();
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in:\n${out}`);
  return { sent: Number(m[1]), received: Number(m[2]), summary: out.split('\n').find((l) => l.includes('transmitted')) ?? '' };
}

const peersEntry = (m: MeshNode, address: string): string => `\n[[peers]]\naddress = "${address}"\npublic_key = "${m.publicKey}"\nlabel = "${m.label}"\n`;

labTest('SIGHUP with C appended to the config: C connects within 15 s, and the running A→B ping loses nothing', async (t, lab) => {
  const m = await mesh(lab, true);
  const ping = await startPing(lab, m);
  await sleep(1500);
  fs.appendFileSync(m.a.configPath, peersEntry(m.c, `${m.ac.addrB}:9100`));
  const hupAt = Date.now();
  m.pa.kill('SIGHUP');
  await m.pa.waitForOutput(/"event":"reloaded"/, 10_000);
  t.notRegex(m.pa.output(), /"event":"reload_failed"/);
  await startDaemon(lab, m.c);

  const row = await waitForPeerState(m.a, m.c, 'active', 15_000);
  t.log(`C active at A ${Date.now() - hupAt} ms after SIGHUP`);
  t.is(row['static'], true, 'A knows C from its reloaded config');
  t.is(row['label'], 'charlie');
  await waitForPeerState(m.c, m.a, 'active', 15_000);
  const toC = await lab.exec(m.na, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', ((await rpcCall(m.c, 'status')) as { mesh_ip: string }).mesh_ip], { timeoutMs: 30_000, allowFailure: true });
  t.regex(toC.stdout, /3 packets transmitted, 3 received/, 'the new tunnel carries traffic');

  const r = await pingResult(ping);
  t.log(`A→B ping across the reload: ${r.summary}`);
  t.deepEqual({ sent: r.sent, received: r.received }, { sent: 50, received: 50 }, 'the established A—B session kept passing traffic (0% loss)');
  // B is still listed active, and the reload did not need a restart.
  t.is((await peersOf(m.a)).find((p) => p.node_id === m.b.nodeId)?.state, 'active');
  t.false(m.pa.exitStatus !== undefined, 'A is still running');
});

labTest('SIGHUP with an invalid config keeps the running one and the A→B ping loses nothing', async (t, lab) => {
  const m = await mesh(lab, true);
  const ping = await startPing(lab, m);
  await sleep(1000);
  const good = fs.readFileSync(m.a.configPath, 'utf8');
  fs.writeFileSync(m.a.configPath, `${good}\n[interface]\nmtu = "big"\n`);
  m.pa.kill('SIGHUP');
  await m.pa.waitForOutput(/"event":"reload_failed"/, 10_000);
  const r = await pingResult(ping);
  t.deepEqual({ sent: r.sent, received: r.received }, { sent: 50, received: 50 }, r.summary);
  t.is((await peersOf(m.a)).find((p) => p.node_id === m.b.nodeId)?.state, 'active');
});

labTest('SIGHUP that turns a dialled-in peer (C) into a configured one keeps its session: the A→C ping loses nothing', async (t, lab) => {
  const m = await mesh(lab, true);
  // C dials A first and is trusted on first use, not configured at A.
  await startDaemon(lab, m.c);
  const before = await waitForPeerState(m.a, m.c, 'active', 15_000);
  t.is(before['static'], false);
  const cMesh = ((await rpcCall(m.c, 'status')) as { mesh_ip: string }).mesh_ip;
  const pingC = lab.spawn(m.na, 'ping', ['-i', '0.2', '-c', '30', '-W', '2', cMesh]);
  await pingC.waitForOutput(/bytes from/, 5_000);
  const pingB = await startPing(lab, m);
  await sleep(1000);
  fs.appendFileSync(m.a.configPath, peersEntry(m.c, `${m.ac.addrB}:9100`));
  m.pa.kill('SIGHUP');
  await m.pa.waitForOutput(/"event":"reloaded"/, 10_000);
  await waitUntil('C to be static and active at A', 15_000, async () => {
    const row = (await peersOf(m.a)).find((p) => p.node_id === m.c.nodeId);
    return row?.static === true && row.state === 'active' ? row : undefined;
  });
  const rc = await pingResult(pingC);
  const rb = await pingResult(pingB);
  t.log(`A→C: ${rc.summary}; A→B: ${rb.summary}`);
  t.deepEqual({ sent: rb.sent, received: rb.received }, { sent: 50, received: 50 }, 'A—B untouched');
  t.deepEqual({ sent: rc.sent, received: rc.received }, { sent: 30, received: 30 }, 'the established A—C session survives becoming configured');
});

labTest('pim peers add on A: C connects within 15 s, live; the A→B ping loses nothing', async (t, lab) => {
  // C has no static peers: only A dialling it (after `pim peers add`) connects them.
  const m = await mesh(lab, false);
  await startDaemon(lab, m.c);
  const ping = await startPing(lab, m);
  await sleep(1000);

  const original = fs.readFileSync(m.a.configPath, 'utf8');
  const add = await pim(m.a, 'peers', 'add', `${m.ac.addrB}:9100`, '--public-key', m.c.publicKey, '--label', 'charlie');
  t.is(add.code, 0, add.stderr);
  t.regex(add.stdout, new RegExp(m.c.nodeId));
  const addedAt = Date.now();
  const afterAdd = fs.readFileSync(m.a.configPath, 'utf8');
  t.true(afterAdd.startsWith(original), 'the existing config is kept byte for byte');
  t.regex(afterAdd.slice(original.length), new RegExp(`public_key = "${m.c.publicKey}"`));

  const row = await waitForPeerState(m.a, m.c, 'active', 15_000);
  t.log(`C active at A ${Date.now() - addedAt} ms after pim peers add`);
  t.is(row['static'], true);
  t.is(row['label'], 'charlie');
  await waitForPeerState(m.c, m.a, 'active', 15_000);

  const r = await pingResult(ping);
  t.log(`A→B ping across pim peers add: ${r.summary}`);
  t.deepEqual({ sent: r.sent, received: r.received }, { sent: 50, received: 50 }, 'the A—B session kept passing traffic (0% loss)');
  t.is((await peersOf(m.a)).find((p) => p.node_id === m.b.nodeId)?.state, 'active');
});

labTest('pim peers remove on A drops C live; A keeps answering and the A→B ping loses nothing', async (t, lab) => {
  const m = await mesh(lab, false);
  await startDaemon(lab, m.c);
  const add = await pim(m.a, 'peers', 'add', `${m.ac.addrB}:9100`, '--public-key', m.c.publicKey, '--label', 'charlie');
  t.is(add.code, 0, add.stderr);
  await waitForPeerState(m.a, m.c, 'active', 15_000);
  const ping = await startPing(lab, m);
  await sleep(1000);

  const remove = await pim(m.a, 'peers', 'remove', 'charlie');
  t.is(remove.code, 0, `pim peers remove: ${remove.stderr}`);
  t.true(await answers(m.a), 'A still answers on its control socket');
  t.false(fs.readFileSync(m.a.configPath, 'utf8').includes(m.c.publicKey), 'C is gone from the file');
  const gone = await waitUntil('C to be no longer a static peer of A', 15_000, async () => {
    const r = (await peersOf(m.a)).find((p) => p.node_id === m.c.nodeId);
    return r === undefined || r.static === false ? { row: r } : undefined;
  });
  t.log(`C at A after remove: ${JSON.stringify(gone.row ?? null)}`);
  const r = await pingResult(ping);
  t.log(`A→B ping across pim peers remove: ${r.summary}`);
  t.deepEqual({ sent: r.sent, received: r.received }, { sent: 50, received: 50 }, 'the A—B session kept passing traffic (0% loss)');
});

labTest('SIGHUP after a [[peers]] entry is deleted: the peer is dropped, A keeps answering, the A→B ping loses nothing', async (t, lab) => {
  const m = await mesh(lab, true);
  const withoutC = fs.readFileSync(m.a.configPath, 'utf8');
  fs.appendFileSync(m.a.configPath, peersEntry(m.c, `${m.ac.addrB}:9100`));
  m.pa.kill('SIGHUP');
  await m.pa.waitForOutput(/"event":"reloaded"/, 10_000);
  await startDaemon(lab, m.c);
  await waitForPeerState(m.a, m.c, 'active', 15_000);
  const ping = await startPing(lab, m);
  await sleep(1000);

  fs.writeFileSync(m.a.configPath, withoutC);
  const logged = m.pa.output().length;
  m.pa.kill('SIGHUP');
  const reloaded = await waitUntil('A to log the second reload', 10_000, async () => (/"event":"reloaded"/.test(m.pa.output().slice(logged)) ? true : undefined)).catch(() => false);
  t.true(reloaded, 'the reload that drops C is applied');
  t.true(await answers(m.a), 'A still answers on its control socket');
  const r = await pingResult(ping);
  t.log(`A→B ping across the removing reload: ${r.summary}`);
  t.deepEqual({ sent: r.sent, received: r.received }, { sent: 50, received: 50 }, 'the A—B session kept passing traffic (0% loss)');
});

labTest('a SIGHUP sent as soon as the control socket exists does not kill the daemon', async (t, lab) => {
  const node = await lab.addNode('a');
  const a = await prepareNode(lab, node, { label: 'alpha' });
  writeConfig(a, [], { label: 'alpha' });
  const proc = lab.spawn(node, process.execPath, [DAEMON_JS, '-c', a.configPath]);
  // Poll tightly: the window between the socket appearing and the start completing is short.
  const deadline = Date.now() + 15_000;
  while (!fs.existsSync(a.socketPath)) {
    if (Date.now() > deadline || proc.exitStatus) throw new Error(`no control socket: ${proc.output()}`);
    await sleep(2);
  }
  proc.kill('SIGHUP');
  await sleep(1500);
  t.is(proc.exitStatus, undefined, `the daemon is still running (it ended: ${JSON.stringify(proc.exitStatus)})`);
  t.true(await answers(a), 'and answers');
});
