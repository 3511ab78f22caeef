// `pim peers` shows the nodes LAN discovery heard, with the short id `pim
// peers pair` takes, in text and --json; once paired, the node is a peer and
// listed once. Two real daemons on one link in network namespaces.

import { prepareNode, startDaemon, waitForPeerState, waitUntil, writeConfig } from '../ts/lab/mesh.js';
import { labTests, pim, pimOk } from './helpers/lab.js';

const labTest = labTests({ prefix: 'clipeers' });

type Row = Record<string, unknown>;

labTest('pim peers lists a node discovered on the LAN with the short id to pair it; after pim peers pair it is an active peer, listed once', async (t, lab) => {
  const [na, nb] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(na, nb, { subnet: '198.18.7.0/24' });
  const a = await prepareNode(lab, na, { label: 'alpha' });
  const b = await prepareNode(lab, nb, { label: 'bravo' });
  for (const m of [a, b]) writeConfig(m, [], { label: m.label, discoveryIntervalS: 1 });
  await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);

  const row = await waitUntil('A to list B as discovered', 20_000, async () => {
    const r = await pim(a, 'peers', '--json');
    return ((JSON.parse(r.stdout) as { peers: Row[] }).peers ?? []).find((p) => p.node_id === b.nodeId);
  });
  t.like(row, {
    node_id_short: b.nodeId.slice(0, 8),
    label: 'bravo',
    state: 'discovered',
    endpoint: `${link.addrB}:9100`,
    x25519_pubkey: b.publicKey,
    last_handshake_s: null,
    is_gateway: false,
    static: false,
  });

  const text = await pimOk(t, a, 'peers');
  const line = text.split('\n').find((l) => l.startsWith(b.nodeId.slice(0, 8)));
  t.truthy(line, text);
  for (const cell of ['bravo', `${link.addrB}:9100`, 'discovered', 'never']) t.true(line?.includes(cell), `${cell} in ${line}`);
  t.true(text.trimEnd().endsWith(`trust one with \`pim peers pair ${b.nodeId.slice(0, 8)}\``), text);

  await pimOk(t, a, 'peers', 'pair', b.nodeId.slice(0, 8));
  await waitForPeerState(a, b, 'active', 15_000);
  const after = (JSON.parse(await pimOk(t, a, 'peers', '--json')) as { peers: Row[] }).peers.filter((p) => p.node_id === b.nodeId);
  t.is(after.length, 1, 'listed once');
  t.is(after[0]?.state, 'active');
  t.false((await pimOk(t, a, 'peers')).includes('pim peers pair'), 'no pairing hint once nothing is left to pair');
});
