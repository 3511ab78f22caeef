// `pim ping` against real daemons in namespaces: replies with their round
// trip and path, the peer named by label, short id or mesh IP, --json, an
// unknown peer refused, and a peer that stopped answering (exit 1).

import { startDaemon, waitForPeerState } from '../ts/lab/mesh.js';
import { labTests, pim, pimOk, staticPair } from './helpers/lab.js';

const labTest = labTests({ prefix: 'ping' });

labTest('pim ping: replies with round trip and path, by label, short id or mesh IP; --json; unknown and silent peers', async (t, lab) => {
  const { a, b } = await staticPair(lab);
  const [, pb] = await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  await waitForPeerState(a, b, 'active');
  const short = b.nodeId.slice(0, 8);
  const bIp = (JSON.parse(await pimOk(t, b, 'status', '--json')) as { mesh_ip: string }).mesh_ip;

  const byLabel = await pimOk(t, a, 'ping', 'bravo', '-c', '3', '-i', '0.2');
  const lines = byLabel.trimEnd().split('\n');
  t.is(lines.length, 4, byLabel);
  for (const l of lines.slice(0, 3)) t.regex(l, new RegExp(`^pong from bravo \\(${short}\\) at ${bIp.replace(/\./g, '\\.')}, direct in \\d+\\.\\d ms$`));
  t.regex(lines[3]!, /^3 probes, 3 replies, 0% lost; round trip min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms$/);

  for (const ref of [short, bIp, b.nodeId]) t.regex(await pimOk(t, a, 'ping', ref, '-c', '1'), /^pong from bravo /, ref);

  const doc = JSON.parse(await pimOk(t, a, 'ping', 'bravo', '-c', '2', '-i', '0.2', '--json')) as Record<string, unknown>;
  t.like(doc, { schema_version: 1, node_id: b.nodeId, node_id_short: short, mesh_ip: bIp, sent: 2, received: 2 });
  t.like((doc.probes as unknown[])[0], { seq: 1, path: 'direct', via: null });

  const unknown = await pim(a, 'ping', 'nobody');
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /^pim: no peer matches 'nobody'\npim: hint: /);

  pb.kill('SIGTERM');
  await pb.waitExit(10_000);
  const silent = await pim(a, 'ping', 'bravo', '-c', '2', '-i', '0.2');
  t.is(silent.code, 1, silent.stdout + silent.stderr);
  t.regex(silent.stdout, /^no reply from bravo \(/m);
  t.regex(silent.stdout, /2 probes, 0 replies, 100% lost\n$/);
});
