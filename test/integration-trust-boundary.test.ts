// Losing trust ends a session at once (docs/SECURITY.md), end to end with
// real daemons in network namespaces. Root only.
//
//   A ── B    B lists A and dials it; A names nobody and admits B on first use.
//
// A then tightens its trust to an empty allow_list (config.save, as the
// dashboard does). B's traffic must stop reaching A within 1 s of the save,
// and stay stopped past two rekey intervals (B keeps trying; A never takes
// it back and never rekeys it).

import * as fs from 'node:fs';
import { startCapture } from '../ts/lab/capture.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, writeConfig } from '../ts/lab/mesh.js';
import type { Frame } from '../ts/lab/pcap.js';
import { labTests } from './helpers/lab.js';

type Json = Record<string, unknown>;

/** The initiator rekeys after 120 s, the responder after 130 s (docs/PROTOCOL.md). */
const TWO_REKEY_INTERVALS_MS = 2 * 130_000 + 5_000;
const REVOKED_WITHIN_MS = 1_000;

const labTest = labTests({ prefix: 'tb', timeoutMs: TWO_REKEY_INTERVALS_MS + 90_000 });

const ICMP = 1;
const fromB = (frames: Frame[], bIp: string): Frame[] => frames.filter((f) => f.ip?.src === bIp && f.ip.protocol === ICMP);

labTest('tighten and revoke: B dialled in under TOFU; A switches to an empty allow_list; B is cut off within 1 s and stays off past two rekey intervals', async (t, lab) => {
  const [na, nb] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(na, nb, { subnet: '198.18.0.0/24' });
  const A = await prepareNode(lab, na, { label: 'alpha' });
  const B = await prepareNode(lab, nb, { label: 'bravo' });
  writeConfig(A, [], { label: 'alpha' });
  writeConfig(B, [{ address: `${link.addrA}:9100`, publicKey: A.publicKey, label: 'alpha' }], { label: 'bravo' });
  await Promise.all([startDaemon(lab, A), startDaemon(lab, B)]);
  await waitForPeerState(A, B, 'active', 15_000);
  const aIp = ((await rpcCall(A, 'status')) as Json).mesh_ip as string;
  const bIp = ((await rpcCall(B, 'status')) as Json).mesh_ip as string;

  // B pings A five times a second for the whole test; A's tunnel shows what arrives.
  const cap = await startCapture(lab, na, 'pim0', { filter: 'icmp' });
  const ping = lab.spawn(nb, 'ping', ['-n', '-i', '0.2', '-W', '1', aIp]);
  await cap.waitFor("B's pings on A's tunnel", (frames) => fromB(frames, bIp).length >= 3);

  const text = fs.readFileSync(A.configPath, 'utf8').replace('[trust]\n', '[trust]\nmode = "allow_list"\nallow_list = []\n');
  // Measured from the moment the save is asked for, not from its answer.
  const revokedAt = Date.now() / 1000;
  const saved = (await rpcCall(A, 'config.save', { config: text })) as Json;
  t.true(saved.saved, JSON.stringify(saved));

  const until = Date.now() + TWO_REKEY_INTERVALS_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10_000));
    const row = ((await rpcCall(A, 'peers.list')) as Json[]).find((p) => p.node_id === B.nodeId);
    t.not(row?.state, 'active', `A never takes B back (at ${Math.round(Date.now() / 1000 - revokedAt)} s: ${JSON.stringify(row)})`);
  }
  ping.kill('SIGINT');
  await ping.waitExit(5000).catch(() => undefined);
  const frames = fromB(await cap.stop(), bIp);

  const late = frames.filter((f) => f.ts > revokedAt + REVOKED_WITHIN_MS / 1000);
  t.true(frames.some((f) => f.ts <= revokedAt), 'B reached A before the change (the capture works)');
  t.deepEqual(
    late.map((f) => `${(f.ts - revokedAt).toFixed(3)} s after the save`),
    [],
    "nothing from B reached A's tunnel more than 1 s after the save was asked for",
  );
  const lastOk = frames.filter((f) => f.ts > revokedAt).at(-1);
  t.log(lastOk ? `the last packet from B arrived ${((lastOk.ts - revokedAt) * 1000).toFixed(0)} ms after the save` : 'nothing from B arrived after the save');
  const drops = ((await rpcCall(A, 'status')) as { stats: { drops: Record<string, number> } }).stats.drops;
  t.true((drops.untrusted ?? 0) > 0, `B kept trying and A refused it: ${JSON.stringify(drops)}`);
});
