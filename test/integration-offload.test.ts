// A large file crosses the tunnel between two real daemons, both ways, with
// segmentation offloads on at both ends, off at both ends (PIM_OFFLOAD=off,
// the documented troubleshooting switch), and on at one end only (nodes with
// and without offloads interoperate): what arrives has the SHA-256 of what
// was sent. A capture of packets above the Ethernet MTU on each pim0 shows
// whether the kernel and pim exchanged super-segments (TSO, coalesced
// writes) or only packets within the tunnel MTU, and each daemon's status
// says which offloads it uses. Root only (CI runs as root).

import type { ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCapture } from '../ts/lab/capture.js';
import { rpcCall, startDaemon, waitForPeerState, type MeshNode } from '../ts/lab/mesh.js';
import type { Lab } from '../ts/lab/netns.js';
import { labTests, staticPair } from './helpers/lab.js';

const labTest = labTests({ prefix: 'offload', timeoutMs: 240_000 });

const FILE_BYTES = 16 << 20;
const PORT = 7001;

const RECEIVER = `
const net = require('node:net'), crypto = require('node:crypto');
const [ip, port] = process.argv.slice(1);
const server = net.createServer((c) => {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  c.on('data', (d) => { hash.update(d); bytes += d.length; });
  c.on('end', () => { console.log(JSON.stringify({ sha256: hash.digest('hex'), bytes })); server.close(); });
});
server.listen(Number(port), ip, () => console.log('listening'));
`;

const SENDER = `
const net = require('node:net'), fs = require('node:fs');
const [file, ip, port] = process.argv.slice(1);
const c = net.connect(Number(port), ip, () => fs.createReadStream(file).pipe(c));
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

interface Side {
  m: MeshNode;
  meshIp: string;
}

/** Sends `file` from one side to the other over TCP through the tunnel; what the receiver hashed. */
async function transfer(lab: Lab, file: string, from: Side, to: Side): Promise<{ sha256: string; bytes: number }> {
  const receiver = lab.spawn(to.m.node, process.execPath, ['-e', RECEIVER, to.meshIp, String(PORT)]);
  await receiver.waitForOutput(/listening/, 10_000);
  await lab.exec(from.m.node, process.execPath, ['-e', SENDER, file, to.meshIp, String(PORT)], { timeoutMs: 120_000 });
  await receiver.waitExit(60_000);
  const line = receiver.output().split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the receiver printed no result: ${receiver.output()}`);
  return JSON.parse(line) as { sha256: string; bytes: number };
}

/** Packets above 1500 bytes seen on a side's pim0 while `body` runs (headers only). */
async function bigPackets(lab: Lab, side: Side, body: () => Promise<void>): Promise<number> {
  const capture = await startCapture(lab, side.m.node, 'pim0', { filter: 'greater 1500', snaplen: 64 });
  await body();
  return (await capture.stop()).length;
}

async function up(t: ExecutionContext, lab: Lab, m: MeshNode, offload: boolean): Promise<Side> {
  await startDaemon(lab, m, 15_000, offload ? {} : { PIM_OFFLOAD: 'off' });
  const status = (await rpcCall(m, 'status')) as { mesh_ip: string; stats: { offloads: unknown } };
  // This kernel takes all three, so status reports exactly what the switch chose.
  t.deepEqual(status.stats.offloads, { tun: offload, udp_gso: offload, udp_gro: offload }, `${m.label}'s status.stats.offloads`);
  return { m, meshIp: status.mesh_ip };
}

async function check(t: ExecutionContext, lab: Lab, offloadA: boolean, offloadB: boolean): Promise<void> {
  const { a: ma, b: mb } = await staticPair(lab);
  const [a, b] = await Promise.all([up(t, lab, ma, offloadA), up(t, lab, mb, offloadB)]);
  await Promise.all([waitForPeerState(ma, mb, 'active', 20_000), waitForPeerState(mb, ma, 'active', 20_000)]);
  for (const m of [ma, mb]) {
    const { stats } = (await rpcCall(m, 'status')) as { stats: { counters: Record<string, number> } };
    t.true(stats.counters.handshakes_completed >= 1, `${m.label}'s status.stats.counters counts the session: ${JSON.stringify(stats.counters)}`);
  }
  const file = path.join(await lab.tmpDir(), 'payload');
  fs.writeFileSync(file, randomBytes(FILE_BYTES));
  const want = { sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), bytes: FILE_BYTES };
  for (const [from, to, name] of [[a, b, 'A→B'], [b, a, 'B→A']] as const) {
    let got = { sha256: '', bytes: 0 };
    let bigAtB = 0;
    const bigAtA = await bigPackets(lab, a, async () => {
      bigAtB = await bigPackets(lab, b, async () => {
        got = await transfer(lab, file, from, to);
      });
    });
    t.deepEqual(got, want, `${name}: every byte arrives intact`);
    t.log(`${name}: packets above 1500 bytes on pim0: A ${bigAtA}, B ${bigAtB}`);
    if (offloadA && offloadB) t.true(bigAtA > 0 && bigAtB > 0, `${name}: super-segments on both TUN devices`);
    if (!offloadA) t.is(bigAtA, 0, `${name}: A's TUN carries packets within its MTU only`);
    if (!offloadB) t.is(bigAtB, 0, `${name}: B's TUN carries packets within its MTU only`);
  }
}

labTest('a 16 MiB file crosses intact both ways with offloads on at both ends', (t, lab) => check(t, lab, true, true));
labTest('a 16 MiB file crosses intact both ways with offloads off (PIM_OFFLOAD=off)', (t, lab) => check(t, lab, false, false));
labTest('a 16 MiB file crosses intact both ways between a node with offloads and one without', (t, lab) => check(t, lab, true, false));
