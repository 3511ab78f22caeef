// What a neighbour's advertisement is worth depends on how the user trusts
// it (docs/SECURITY.md): an explicit neighbour speaks for farther nodes; one
// admitted on first use is a leaf (its routes ignored and counted), and the
// roles it claims never make it our gateway: nobody but an explicit node is
// a gateway candidate, however its role reached us.

import test from 'ava';
import { MeshManager } from '../ts/daemon/mesh.js';
import { createLogger } from '../ts/log/logger.js';
import type { PeerStatus } from '../ts/native/engine.js';
import { encodeAdverts, type Advert } from '../ts/routing/adverts.js';
import { seededKey } from './helpers/keys.js';

const key = (name: string): string => seededKey(`pim-mesh-trust ${name}`);
const SELF = key('self');
const NAMED = key('named neighbour');
const STRANGER = key('stranger');
const FAR = key('far node');
const FAR_STRANGER = key('far stranger');

const neighbour = (publicKey: string): PeerStatus => ({ publicKey, meshIp: '10.77.0.9', endpoint: '198.18.0.9:9100', state: 'active', configured: false, rxBytes: 0, txBytes: 0 });

function mesh(explicit: Set<string>) {
  let changes = 0;
  const peers = [neighbour(NAMED), neighbour(STRANGER)];
  const m = new MeshManager(
    {
      selfKey: SELF,
      meshIp: '10.77.0.1',
      engine: { peers: () => peers, sendControl: () => true },
      roles: () => [],
      log: createLogger('fatal', { write: () => undefined }),
      onChanged: () => void changes++,
      isExplicit: (k) => explicit.has(k),
    },
    () => 1_000,
  );
  const advert = (from: string, a: Advert): void => {
    for (const payload of encodeAdverts(a)) m.onAdvert(from, payload);
  };
  return { m, advert, changes: () => changes };
}

const gatewayAdvert = (ip: string, routes: Advert['routes'] = []): Advert => ({ roles: ['gateway'], ip, routes });

test('an explicit neighbour advertising the gateway role is a candidate, with its farther routes', (t) => {
  const { m, advert } = mesh(new Set([NAMED, FAR]));
  advert(NAMED, gatewayAdvert('10.77.0.2', [{ key: FAR, hops: 1, roles: ['gateway'], ip: '10.77.0.3' }]));
  t.deepEqual(m.gatewayCandidates().map((c) => c.publicKey).sort(), [NAMED, FAR].sort());
  t.is(m.route(FAR)?.via, NAMED);
  t.deepEqual(m.ignored, { roles: 0, routes: 0 });
});

test('a neighbour admitted on first use is a leaf: never a gateway candidate, no route through it, both counted', (t) => {
  const { m, advert } = mesh(new Set([NAMED]));
  advert(STRANGER, gatewayAdvert('10.77.0.4', [{ key: FAR, hops: 1, roles: [], ip: '10.77.0.3' }, { key: FAR_STRANGER, hops: 2, roles: ['gateway'], ip: '10.77.0.5' }]));
  t.deepEqual(m.gatewayCandidates(), [], 'the stranger is no gateway, near or far');
  t.is(m.route(STRANGER)?.hops, 1, 'the stranger itself is reachable, directly');
  t.is(m.route(FAR), undefined, 'nothing is reached through the stranger');
  t.is(m.route(FAR_STRANGER), undefined);
  t.deepEqual(m.ignored, { roles: 1, routes: 2 });
});

test("an explicit neighbour relaying a stranger's gateway role does not make the stranger a candidate", (t) => {
  const { m, advert } = mesh(new Set([NAMED]));
  advert(NAMED, { roles: [], ip: '10.77.0.2', routes: [{ key: FAR_STRANGER, hops: 1, roles: ['gateway'], ip: '10.77.0.5' }] });
  t.is(m.route(FAR_STRANGER)?.via, NAMED, 'the far node is reachable through the explicit neighbour');
  t.deepEqual(m.gatewayCandidates(), [], 'but it is not ours to route the internet through');
  t.is(m.ignored.roles, 1);
});

test('losing explicit trust demotes a neighbour to a leaf within a tick: no longer a candidate, and the routes through it go', (t) => {
  const explicit = new Set([NAMED, FAR]);
  const { m, advert, changes } = mesh(explicit);
  advert(NAMED, gatewayAdvert('10.77.0.2', [{ key: FAR, hops: 1, roles: [], ip: '10.77.0.3' }]));
  t.is(m.gatewayCandidates().length, 1);
  const before = changes();
  explicit.delete(NAMED);
  m.retrust();
  t.deepEqual(m.gatewayCandidates(), []);
  t.is(m.route(FAR), undefined);
  t.true(changes() > before, 'the snapshot and the gateway choice are told');
  m.retrust();
  t.is(changes(), before + 1, 'once: nothing changes the second time');
});
