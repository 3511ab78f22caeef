// ts/routing/adverts.ts, no root needed: the routing advertisement's wire
// format — round trips, splitting a big table into messages that each fit
// and stand alone, and what a decoder refuses, skips or repairs.

import test from 'ava';
import { ADVERT_VERSION, MAX_ADVERT_BYTES, ROLES, decodeAdvert, encodeAdverts, type Advert, type Role } from '../ts/routing/adverts.js';
import { INFINITY, type AdvertEntry } from '../ts/routing/distance-vector.js';
import { seededKey } from './helpers/keys.js';

const KA = 'a'.repeat(64);
const KB = 'b'.repeat(64);
const KC = 'c'.repeat(64);
const KD = 'd'.repeat(64);

const entry = (key: string, hops: number, roles: AdvertEntry['roles'] = [], ip = '10.77.0.9'): AdvertEntry => ({ key, hops, roles, ip });

// ── encodeAdverts ───────────────────────────────────────────────────────────

test('encodeAdverts/decodeAdvert: round trip, with and without the gateway role and routes', (t) => {
  const adverts: Advert[] = [
    { roles: ['gateway'], ip: '10.77.0.1', routes: [] },
    { roles: [], ip: '10.77.0.1', routes: [] },
    { roles: [], ip: '10.77.0.1', routes: [entry(KA, 1, ['gateway'], '10.77.1.1'), entry(KB, 2, [], '10.77.1.2'), entry(KC, INFINITY)] },
  ];
  for (const role of ROLES) adverts.push({ roles: [role], ip: '10.77.0.2', routes: [entry(KD, 3, [role])] });
  for (const a of adverts) {
    const out = encodeAdverts(a);
    t.is(out.length, 1, 'a small advert is one message');
    t.deepEqual(decodeAdvert(out[0]!), a);
  }
});

test('encodeAdverts: JSON {v, roles, ip, routes} with the current version', (t) => {
  const [bytes] = encodeAdverts({ roles: ['gateway'], ip: '10.77.0.1', routes: [entry(KA, 2, ['gateway'], '10.77.0.3')] });
  t.deepEqual(JSON.parse(bytes!.toString('utf8')), { v: ADVERT_VERSION, roles: ['gateway'], ip: '10.77.0.1', routes: [{ k: KA, h: 2, r: ['gateway'], ip: '10.77.0.3' }] });
  t.is(ADVERT_VERSION, 1);
  // native/src/proto/control.rs: MAX_ADVERT_LEN = 1024.
  t.is(MAX_ADVERT_BYTES, 1024);
});

test('encodeAdverts: a big table is split; every message fits, stands alone, and together they carry every route in order', (t) => {
  const routes = Array.from({ length: 60 }, (_, n) => entry(n.toString(16).padStart(64, '0'), 1 + (n % 15), n % 7 === 0 ? ['gateway'] : [], `10.77.${n >> 8}.${n & 255}`));
  const out = encodeAdverts({ roles: ['gateway'], ip: '10.77.200.1', routes });
  t.true(out.length > 1, `${out.length} messages`);
  const carried: AdvertEntry[] = [];
  for (const m of out) {
    t.true(m.length > 0 && m.length <= MAX_ADVERT_BYTES, `${m.length} bytes`);
    const d = decodeAdvert(m);
    t.not(d, null);
    t.deepEqual([d!.roles, d!.ip], [['gateway'], '10.77.200.1'], 'each message carries the sender itself');
    carried.push(...d!.routes);
  }
  t.deepEqual(carried, routes);
});

const hexKey = (i: number): string => seededKey(`route ${i}`);

function bigAdvert(n: number): Advert {
  return {
    roles: ['gateway'],
    ip: '10.77.200.1',
    routes: Array.from({ length: n }, (_, i) => ({
      key: hexKey(i),
      hops: (i % INFINITY) + 1 > INFINITY ? INFINITY : (i % INFINITY) + 1,
      roles: i % 3 === 0 ? (['gateway'] as Role[]) : [],
      ip: `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    })),
  };
}

for (const n of [0, 1, 5, 8, 9, 40, 300]) {
  test(`encodeAdverts: ${n} routes → messages each ≤ MAX_ADVERT_BYTES that together carry every route, in order`, (t) => {
    const a = bigAdvert(n);
    const msgs = encodeAdverts(a);
    t.true(msgs.length >= 1, 'at least one message (the neighbour learns of the sender itself)');
    for (const [i, m] of msgs.entries()) t.true(m.length <= MAX_ADVERT_BYTES, `message ${i} is ${m.length} bytes`);
    const decoded = msgs.map((m) => decodeAdvert(m));
    t.true(decoded.every((d) => d !== null), 'each message decodes on its own');
    for (const d of decoded) t.like(d, { roles: ['gateway'], ip: '10.77.200.1' }, 'each message carries the sender’s roles and IP');
    t.deepEqual(
      decoded.flatMap((d) => d!.routes),
      a.routes,
      'the messages together carry every route exactly once',
    );
    if (n >= 40) t.true(msgs.length > 1, `a big table is split (${msgs.length} messages)`);
    if (n >= 40) t.true(msgs.slice(0, -1).every((m) => m.length > MAX_ADVERT_BYTES / 2), 'messages (but the last) are reasonably full, not one route each');
    const first = JSON.parse(msgs[0]!.toString('utf8')) as Record<string, unknown>;
    t.is(first.v, ADVERT_VERSION);
  });
}

test('encodeAdverts: a route at INFINITY (poison) is carried as 16', (t) => {
  const [m] = encodeAdverts({ roles: [], ip: '10.77.0.1', routes: [{ key: hexKey(1), hops: INFINITY, roles: [], ip: '10.77.0.2' }] });
  t.deepEqual(decodeAdvert(m!)?.routes, [{ key: hexKey(1), hops: INFINITY, roles: [], ip: '10.77.0.2' }]);
});

// ── decodeAdvert ────────────────────────────────────────────────────────────

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const ok = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ v: 1, roles: ['gateway'], ip: '10.77.0.1', routes: [], ...extra });

interface DecodeCase {
  rule: string;
  payload: Buffer;
  expected: Advert | null;
}

const decodeCases: DecodeCase[] = [
  { rule: 'wrong version (2) is not understood', payload: json(ok({ v: 2 })), expected: null },
  { rule: 'version 0 is not understood', payload: json(ok({ v: 0 })), expected: null },
  { rule: 'version as a string is not understood', payload: json(ok({ v: '1' })), expected: null },
  { rule: 'missing version is not understood', payload: json({ roles: ['gateway'], ip: '10.77.0.1', routes: [] }), expected: null },
  { rule: 'not JSON', payload: Buffer.from('gateway'), expected: null },
  { rule: 'truncated JSON', payload: json(ok()).subarray(0, 10), expected: null },
  { rule: 'empty payload', payload: Buffer.alloc(0), expected: null },
  { rule: 'bytes that are not UTF-8', payload: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), expected: null },
  { rule: 'JSON null', payload: json(null), expected: null },
  { rule: 'a JSON array', payload: json([1, ['gateway']]), expected: null },
  { rule: 'a JSON number', payload: json(1), expected: null },
  { rule: 'a JSON string', payload: json('gateway'), expected: null },
  { rule: 'roles is a string, not an array', payload: json(ok({ roles: 'gateway' })), expected: null },
  { rule: 'roles is an object, not an array', payload: json(ok({ roles: { gateway: true } })), expected: null },
  { rule: 'roles is null', payload: json(ok({ roles: null })), expected: null },
  { rule: 'roles missing', payload: json({ v: 1, ip: '10.77.0.1', routes: [] }), expected: null },
  { rule: 'the sender\'s ip missing', payload: json({ v: 1, roles: [], routes: [] }), expected: null },
  { rule: 'the sender\'s ip not an IPv4 address', payload: json(ok({ ip: 'fe80::1' })), expected: null },
  { rule: 'the sender\'s ip a number', payload: json(ok({ ip: 167_772_161 })), expected: null },
  { rule: 'unknown roles are ignored', payload: json(ok({ roles: ['relay', 'gateway', 'exit-node'] })), expected: { roles: ['gateway'], ip: '10.77.0.1', routes: [] } },
  { rule: 'only unknown roles: no roles', payload: json(ok({ roles: ['relay'] })), expected: { roles: [], ip: '10.77.0.1', routes: [] } },
  { rule: 'roles are case-sensitive', payload: json(ok({ roles: ['Gateway', 'GATEWAY'] })), expected: { roles: [], ip: '10.77.0.1', routes: [] } },
  { rule: 'non-string roles are ignored', payload: json(ok({ roles: [1, null, {}, ['gateway'], true, 'gateway'] })), expected: { roles: ['gateway'], ip: '10.77.0.1', routes: [] } },
  { rule: 'duplicate roles are collapsed', payload: json(ok({ roles: ['gateway', 'gateway', 'relay', 'gateway'] })), expected: { roles: ['gateway'], ip: '10.77.0.1', routes: [] } },
  { rule: 'an empty role list is a valid advert (the peer stopped being a gateway)', payload: json(ok({ roles: [] })), expected: { roles: [], ip: '10.77.0.1', routes: [] } },
  { rule: 'routes missing: no routes', payload: json({ v: 1, roles: [], ip: '10.77.0.1' }), expected: { roles: [], ip: '10.77.0.1', routes: [] } },
  {
    rule: 'bad route entries are skipped, good ones kept',
    payload: json(
      ok({
        routes: [
          { k: KA, h: 2, r: ['gateway'], ip: '10.77.0.2' },
          { k: KA.toUpperCase(), h: 2, r: [], ip: '10.77.0.3' },
          { k: 'ab', h: 2, r: [], ip: '10.77.0.3' },
          { k: KB, h: -1, r: [], ip: '10.77.0.3' },
          { k: KB, h: 1.5, r: [], ip: '10.77.0.3' },
          { k: KB, h: '2', r: [], ip: '10.77.0.3' },
          { k: KC, h: 2, r: [], ip: 'nowhere' },
          { k: KC, h: 2, r: [] },
          null,
          'route',
          { k: KD, h: 3, r: ['relay', 'gateway', 'gateway'], ip: '10.77.0.4' },
          { k: KD, h: 0, ip: '10.77.0.5' },
        ],
      }),
    ),
    expected: { roles: ['gateway'], ip: '10.77.0.1', routes: [entry(KA, 2, ['gateway'], '10.77.0.2'), entry(KD, 3, ['gateway'], '10.77.0.4'), entry(KD, 0, [], '10.77.0.5')] },
  },
  {
    rule: 'hop counts beyond INFINITY are clamped to INFINITY',
    payload: json(ok({ routes: [{ k: KA, h: 1000, r: [], ip: '10.77.0.2' }] })),
    expected: { roles: ['gateway'], ip: '10.77.0.1', routes: [entry(KA, INFINITY, [], '10.77.0.2')] },
  },
];

for (const c of decodeCases) {
  test(`decodeAdvert: ${c.rule}`, (t) => {
    t.deepEqual(decodeAdvert(c.payload), c.expected);
  });
}

const GOOD_ROUTE = { k: hexKey(7), h: 2, r: ['gateway'], ip: '10.77.3.4' };
const doc = (over: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ v: 1, roles: [], ip: '10.77.0.1', routes: [GOOD_ROUTE], ...over }));
const without = (field: string): Buffer => {
  const d: Record<string, unknown> = { v: 1, roles: [], ip: '10.77.0.1', routes: [GOOD_ROUTE] };
  delete d[field];
  return Buffer.from(JSON.stringify(d));
};

const rejected: [string, Buffer][] = [
  ['version 2', doc({ v: 2 })],
  ['version 0', doc({ v: 0 })],
  ['version "1" (a string)', doc({ v: '1' })],
  ['no version', without('v')],
  ['not JSON', Buffer.from('{"v":1,"roles":[],')],
  ['empty', Buffer.alloc(0)],
  ['binary garbage', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
  ['JSON null', Buffer.from('null')],
  ['a JSON array', Buffer.from('[1,"gateway"]')],
  ['a JSON number', Buffer.from('1')],
  ['a JSON string', Buffer.from('"v"')],
  ['roles missing', without('roles')],
  ['roles a string', doc({ roles: 'gateway' })],
  ['ip missing', without('ip')],
  ['ip a number', doc({ ip: 173867009 })],
  ['ip with three parts', doc({ ip: '10.77.0' })],
  ['ip with five parts', doc({ ip: '10.77.0.1.5' })],
  ['ip a name', doc({ ip: 'gateway.local' })],
  ['ip with a prefix length', doc({ ip: '10.77.0.1/16' })],
  ['ip with spaces', doc({ ip: ' 10.77.0.1' })],
];

for (const [what, payload] of rejected) {
  test(`decodeAdvert rejects: ${what}`, (t) => {
    t.is(decodeAdvert(payload), null);
  });
}

test('decodeAdvert rejects an IP with an octet above 255', (t) => {
  t.is(decodeAdvert(doc({ ip: '300.1.1.1' })), null, 'own IP 300.1.1.1');
  t.deepEqual(decodeAdvert(doc({ routes: [{ ...GOOD_ROUTE, ip: '10.77.256.1' }] }))?.routes, [], 'route IP 10.77.256.1 skipped');
});

const skipped: [string, unknown][] = [
  ['null', null],
  ['a number', 3],
  ['a string', 'route'],
  ['an array', [hexKey(1), 1]],
  ['no key', { h: 1, r: [], ip: '10.77.0.9' }],
  ['a 63-hex key', { ...GOOD_ROUTE, k: hexKey(1).slice(1) }],
  ['an upper-case key', { ...GOOD_ROUTE, k: hexKey(1).toUpperCase() }],
  ['a key that is not hex', { ...GOOD_ROUTE, k: 'z'.repeat(64) }],
  ['no hops', { k: hexKey(1), r: [], ip: '10.77.0.9' }],
  ['negative hops', { ...GOOD_ROUTE, h: -1 }],
  ['fractional hops', { ...GOOD_ROUTE, h: 1.5 }],
  ['hops as a string', { ...GOOD_ROUTE, h: '1' }],
  ['no ip', { k: hexKey(1), h: 1, r: [] }],
  ['a bad ip', { ...GOOD_ROUTE, ip: '10.77.0' }],
];

for (const [what, bad] of skipped) {
  test(`decodeAdvert skips a bad route entry (${what}) and keeps the good ones`, (t) => {
    const d = decodeAdvert(doc({ routes: [GOOD_ROUTE, bad, { ...GOOD_ROUTE, k: hexKey(8) }] }));
    t.not(d, null, 'the advertisement itself is kept');
    t.deepEqual(
      d!.routes.map((r) => r.key),
      [hexKey(7), hexKey(8)],
    );
  });
}

test('decodeAdvert: unknown and repeated roles are dropped, hops above INFINITY are capped, a missing routes list is empty', (t) => {
  const d = decodeAdvert(
    doc({ roles: ['gateway', 'exit-node', 'gateway', 7], routes: [{ ...GOOD_ROUTE, h: 99, r: ['relay', 'gateway'] }, { ...GOOD_ROUTE, k: hexKey(9), r: 'gateway' }] }),
  );
  t.deepEqual(d, {
    roles: ['gateway'],
    ip: '10.77.0.1',
    routes: [
      { key: hexKey(7), hops: INFINITY, roles: ['gateway'], ip: '10.77.3.4' },
      { key: hexKey(9), hops: 2, roles: [], ip: '10.77.3.4' },
    ],
  });
  t.deepEqual(decodeAdvert(without('routes'))?.routes, []);
  t.deepEqual(decodeAdvert(doc({ routes: { k: hexKey(1) } }))?.routes, []);
});
