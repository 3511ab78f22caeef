// A LAN announcement is a hint, never trust (docs/SECURITY.md): whatever
// discovery hears — a trusted node at a new address, a stranger at a pinned
// address, a node_id that is not its key's — no trust record or pin
// changes. A real Daemon with the FakeEngine and a fake LAN. No root needed.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeAnnouncement } from '../ts/discovery/announce.js';
import { testConfigText } from './helpers/config.js';
import { eventually, startTestDaemon } from './helpers/daemon.js';
import { newIdentity } from './helpers/keys.js';
import { FakeLan } from './helpers/lan.js';

const KNOWN = newIdentity();
const STRANGER = newIdentity();

test('announcements never change a trust record or a pin: a known node elsewhere, a stranger at a pinned address, a spoofed node_id', async (t) => {
  const lan = new FakeLan();
  let store = '';
  const h = await startTestDaemon(t, {
    tmpPrefix: 'pim-discovery-trust-',
    clientName: 'discovery-trust-test',
    discoveryTransport: lan,
    writeConfig: (dir, configPath) => {
      store = path.join(dir, 'trust.json');
      const record = { node_id: KNOWN.nodeId, public_key: KNOWN.publicKeyHex, endpoint: '198.18.0.5:9100', source: 'tofu', first_seen: '2026-01-01T00:00:00.000Z' };
      fs.writeFileSync(store, `${JSON.stringify({ version: 1, peers: [record] }, null, 2)}\n`, { mode: 0o600 });
      fs.writeFileSync(configPath, testConfigText(dir, { name: 'discovery-trust-test', discovery: true, trustStore: store }), { mode: 0o600 });
    },
  });
  const before = fs.readFileSync(store, 'utf8');
  const pins = () => h.fake.snapshot!.pins;
  t.deepEqual(pins(), [{ ip: '198.18.0.5', nodeId: KNOWN.nodeId }]);

  const announce = (id: typeof KNOWN, from: string, spoofNodeId?: string): void => {
    const msg = encodeAnnouncement({ publicKey: id.publicKeyHex, port: 9100, name: 'n', roles: ['gateway'] });
    if (spoofNodeId !== undefined) Buffer.from(spoofNodeId, 'hex').copy(msg, 40);
    lan.deliver!(msg, { address: from, port: 9101 });
  };
  await eventually(t, 'discovery to open its socket', () => lan.deliver !== undefined);

  // The known node heard at a new address: dialled there, still pinned where it was first trusted.
  announce(KNOWN, '198.18.0.9');
  await eventually(t, 'the engine to dial the known node where discovery heard it', () =>
    h.fake.snapshot!.peers.some((p) => p.publicKey === KNOWN.publicKeyHex && p.endpoint === '198.18.0.9:9100'),
  );
  // A stranger announcing from the pinned address, and one claiming the known node's id.
  announce(STRANGER, '198.18.0.5');
  announce(STRANGER, '198.18.0.7', KNOWN.nodeId);
  const c = await h.client();
  await eventually(t, 'the stranger to be listed as discovered', async () =>
    ((await c.call<{ node_id: string }[]>('peers.discovered')) ?? []).some((n) => n.node_id === STRANGER.nodeId),
  );
  t.deepEqual(pins(), [{ ip: '198.18.0.5', nodeId: KNOWN.nodeId }], 'the pin is where it was');
  t.false(h.fake.snapshot!.explicit.includes(STRANGER.nodeId), 'a stranger is never explicit for being heard');
  t.false(h.fake.snapshot!.peers.some((p) => p.publicKey === STRANGER.publicKeyHex), 'nor dialled');
  t.is(fs.readFileSync(store, 'utf8'), before, 'the trust store is untouched');
  const drops = (await c.call<{ stats: { drops: Record<string, number> } }>('status')).stats.drops;
  t.is(drops['discovery_spoofed'], 1, 'the spoofed announcement was dropped and counted');
});
