// Fuzz tests of the control plane's parsers of what the network or a file
// hands it (issue 12): advertisements (control payloads), LAN discovery
// announcements, the trust store and the config. Each runs FUZZ_CASES
// seeded cases (test/helpers/fuzz.ts; PIM_FUZZ_CASES=N for a longer run)
// and logs how many it ran. The datagram wire format and relay envelopes
// are fuzzed on the Rust side (native/src/fuzz_tests.rs).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test from 'ava';
import type { PathEnv } from '../ts/config/paths.js';
import { validateConfigText } from '../ts/config/validate.js';
import { decodeAnnouncement, encodeAnnouncement } from '../ts/discovery/announce.js';
import { PimError } from '../ts/errors.js';
import { nodeIdFromPublicKey } from '../ts/identity/node-id.js';
import { parseIpv4 } from '../ts/net/ipv4.js';
import { decodeAdvert, encodeAdverts } from '../ts/routing/adverts.js';
import { INFINITY } from '../ts/routing/distance-vector.js';
import { TrustStore } from '../ts/trust/store.js';
import { FUZZ_CASES, fuzz } from './helpers/fuzz.js';
import { newPublicKey, seededKey } from './helpers/keys.js';

const K1 = seededKey('fuzz 1');
const K2 = seededKey('fuzz 2');

test('fuzz: decodeAdvert never throws, and what it accepts is well-formed and survives a round trip', (t) => {
  const samples = encodeAdverts({
    roles: ['gateway'],
    ip: '10.77.0.9',
    routes: [
      { key: K1, hops: 1, roles: [], ip: '10.77.0.10' },
      { key: K2, hops: INFINITY, roles: ['gateway'], ip: '10.77.0.11' },
    ],
  });
  const ran = fuzz('decodeAdvert', samples, (input) => {
    const a = decodeAdvert(input);
    if (a === null) return;
    if (parseIpv4(a.ip) === null) throw new Error('accepted a bad ip');
    for (const r of a.routes) {
      if (!/^[0-9a-f]{64}$/.test(r.key) || r.hops < 0 || r.hops > INFINITY || parseIpv4(r.ip) === null) throw new Error(`accepted a bad route ${JSON.stringify(r)}`);
    }
    const again = encodeAdverts(a).map((b) => decodeAdvert(b));
    const routes = again.flatMap((x) => x?.routes ?? []);
    if (JSON.stringify(routes) !== JSON.stringify(a.routes)) throw new Error('not stable across a round trip');
  });
  t.log(`${ran} cases`);
  t.is(ran, FUZZ_CASES);
});

test('fuzz: decodeAnnouncement never throws; an accepted announcement is self-consistent and re-encodes to itself', (t) => {
  const samples = [encodeAnnouncement({ publicKey: K1, port: 9100, name: 'laptop', roles: ['gateway'] }), encodeAnnouncement({ publicKey: K2, port: 1, name: '', roles: [] })];
  const ran = fuzz('decodeAnnouncement', samples, (input) => {
    const d = decodeAnnouncement(input);
    if (!d.ok) return;
    const a = d.announcement;
    if (a.nodeId !== nodeIdFromPublicKey(Buffer.from(a.publicKey, 'hex')) || a.port === 0) throw new Error('accepted an inconsistent announcement');
    const again = decodeAnnouncement(encodeAnnouncement(a));
    if (JSON.stringify(again) !== JSON.stringify(d)) throw new Error('not stable across a round trip');
  });
  t.log(`${ran} cases`);
  t.is(ran, FUZZ_CASES);
});

test('fuzz: a trust store file either loads or is refused as trust_store_corrupt, never anything else', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pim-fuzz-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = newPublicKey();
  const record = { public_key: key, node_id: nodeIdFromPublicKey(Buffer.from(key, 'hex')), endpoint: '198.18.0.2:9100', source: 'tofu', first_seen: '2026-01-01T00:00:00.000Z' };
  const sample = Buffer.from(JSON.stringify({ version: 1, peers: [record, { ...record, endpoint: null, source: 'paired' }] }));
  const inputs: Buffer[] = [];
  const ran = fuzz('TrustStore.load', [sample], (input) => void inputs.push(input));
  let loaded = 0;
  for (const [i, input] of inputs.entries()) {
    const file = path.join(dir, `trust-${i}.json`);
    fs.writeFileSync(file, input);
    try {
      await TrustStore.load(file);
      loaded++;
    } catch (err) {
      if (!(err instanceof PimError) || err.code !== 'trust_store_corrupt') t.fail(`case ${i}: ${String(err)} for ${JSON.stringify(input.toString('latin1'))}`);
    }
  }
  t.log(`${ran} cases, ${loaded} loaded`);
  t.is(ran, FUZZ_CASES);
});

test('fuzz: validateConfigText never throws: a config, or issues with a position', (t) => {
  const pe: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };
  const sample = Buffer.from(
    [
      '[node]',
      'name = "fuzz"',
      '[transport]',
      'listen_port = 9100',
      '[interface]',
      'mtu = 1420',
      '[discovery]',
      'interval_s = 5',
      '[trust]',
      'mode = "tofu"',
      '[[peers]]',
      'address = "198.18.0.2:9100"',
      `public_key = "${K1}"`,
      'label = "b"',
    ].join('\n'),
  );
  let valid = 0;
  const ran = fuzz('validateConfigText', [sample], (input) => {
    const r = validateConfigText(input.toString('utf8'), '/etc/pim/pim.toml', pe);
    if (r.config !== null) {
      if (r.issues.length > 0) throw new Error('a config with issues');
      valid++;
    } else if (r.issues.length === 0 || r.issues.some((i) => !(i.line >= 1 && i.column >= 1))) {
      throw new Error(`refused without a positioned issue: ${JSON.stringify(r.issues)}`);
    }
  });
  t.log(`${ran} cases, ${valid} valid`);
  t.is(ran, FUZZ_CASES);
});
