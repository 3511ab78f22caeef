// Pure parts of "route internet via mesh" (issue 6), no root needed:
// gateway selection, the advertisement's wire format, how long an advertised
// role holds (the routing table's expiry, with an injected clock), and
// config/edit.ts setKey, which persists `pim route on|off` and `pim gateway
// enable|disable` into the user's own config file.

import test, { type ExecutionContext } from 'ava';
import { setKey } from '../ts/config/edit.js';
import type { PathEnv } from '../ts/config/paths.js';
import type { Config } from '../ts/config/schema.js';
import { validateConfigText } from '../ts/config/validate.js';
import { ADVERT_VERSION, MAX_ADVERT_BYTES, ROLES, decodeAdvert, encodeAdverts, type Advert } from '../ts/routing/adverts.js';
import { GC_MS, INFINITY, ROUTE_TTL_MS, RoutingTable, type AdvertEntry } from '../ts/routing/distance-vector.js';
import { selectGateway, type GatewayCandidate } from '../ts/routing/gateway-select.js';
import { ADVERT_INTERVAL_MS } from '../ts/daemon/mesh.js';

// ── selectGateway ───────────────────────────────────────────────────────────

const KA = 'a'.repeat(64);
const KB = 'b'.repeat(64);
const KC = 'c'.repeat(64);
const KD = 'd'.repeat(64);
const SELF = 'e'.repeat(64);

const up = (publicKey: string, latencyMs: number | null, hops = 1): GatewayCandidate => ({ publicKey, reachable: true, latencyMs, hops });
const down = (publicKey: string, latencyMs: number | null, hops = 1): GatewayCandidate => ({ publicKey, reachable: false, latencyMs, hops });

interface SelectCase {
  rule: string;
  candidates: GatewayCandidate[];
  current: string | null;
  expected: string | null;
}

const selectCases: SelectCase[] = [
  { rule: 'lowest latency wins', candidates: [up(KA, 20), up(KB, 5), up(KC, 10)], current: null, expected: KB },
  { rule: 'a latency of 0 ms is a latency, not a missing one', candidates: [up(KA, null), up(KB, 0)], current: null, expected: KB },
  { rule: 'null latency ranks after any measured latency', candidates: [up(KA, null), up(KB, 500)], current: null, expected: KB },
  { rule: 'null latency ranks last even when listed first among several', candidates: [up(KA, null), up(KD, 90), up(KC, 30)], current: null, expected: KC },
  { rule: 'all latencies unknown: fewest hops', candidates: [up(KA, null, 3), up(KB, null, 2), up(KC, null, 4)], current: null, expected: KB },
  { rule: 'all latencies unknown, same hops: the smallest key', candidates: [up(KC, null), up(KA, null), up(KB, null)], current: null, expected: KA },
  { rule: 'latency outranks hops', candidates: [up(KA, 50, 1), up(KB, 10, 3)], current: null, expected: KB },
  { rule: 'a measured far gateway beats an unmeasured near one', candidates: [up(KA, null, 1), up(KB, 80, 5)], current: null, expected: KB },
  { rule: 'equal latency: fewest hops', candidates: [up(KA, 7, 3), up(KB, 7, 2)], current: null, expected: KB },
  { rule: 'equal latency and hops: the smallest key', candidates: [up(KC, 7), up(KB, 7), up(KD, 7)], current: null, expected: KB },
  { rule: 'an unreachable candidate is never chosen, however fast', candidates: [down(KA, 1), up(KB, 80)], current: null, expected: KB },
  { rule: 'a reachable current gateway is kept although another is faster', candidates: [up(KA, 80), up(KB, 1)], current: KA, expected: KA },
  { rule: 'a reachable current gateway with unknown latency is kept', candidates: [up(KA, null), up(KB, 1)], current: KA, expected: KA },
  { rule: 'a reachable current gateway is kept although another is nearer', candidates: [up(KA, null, 4), up(KB, null, 1)], current: KA, expected: KA },
  { rule: 'a current gateway that became unreachable is replaced by the best', candidates: [down(KA, 1), up(KB, 40), up(KC, 20)], current: KA, expected: KC },
  { rule: 'a current gateway that is no longer a candidate (role or route gone) is replaced', candidates: [up(KB, 40), up(KC, 20)], current: KA, expected: KC },
  { rule: 'none reachable: null', candidates: [down(KA, 1), down(KB, null)], current: null, expected: null },
  { rule: 'none reachable: null, even with a current gateway', candidates: [down(KA, 1), down(KB, 2)], current: KA, expected: null },
  { rule: 'no candidates: null', candidates: [], current: null, expected: null },
  { rule: 'no candidates: the current gateway is dropped', candidates: [], current: KA, expected: null },
];

for (const c of selectCases) {
  test(`selectGateway: ${c.rule}`, (t) => {
    t.is(selectGateway(c.candidates, c.current), c.expected);
  });
}

/** Every ordering of xs. */
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('selectGateway: the choice does not depend on the order the peers are listed in (deterministic tie-break)', (t) => {
  const sets: GatewayCandidate[][] = [
    [up(KA, 7), up(KB, 7), up(KC, 7), down(KD, 1)],
    [up(KD, null), up(KB, null), up(KC, null), up(KA, null)],
    [up(KD, 3), up(KB, null), up(KC, 3), down(KA, 3)],
    [up(KD, null, 2), up(KB, null, 2), up(KC, null, 3), up(KA, null, 4)],
  ];
  for (const set of sets) {
    const results = new Set(permutations(set).map((p) => selectGateway(p, null)));
    t.is(results.size, 1, `one answer for every ordering of ${JSON.stringify(set)}`);
  }
  // Keys that differ only late in the string, as real public keys do.
  const k1 = `${'0'.repeat(63)}1`;
  const k2 = `${'0'.repeat(63)}2`;
  t.is(selectGateway([up(k2, 5), up(k1, 5)], null), k1);
  t.is(selectGateway([up(k1, 5), up(k2, 5)], null), k1);
});

test('selectGateway: does not modify the candidate list it is given', (t) => {
  const list = [up(KC, 30), up(KA, 10), up(KB, 20)];
  const copy = JSON.parse(JSON.stringify(list)) as GatewayCandidate[];
  selectGateway(list, null);
  t.deepEqual(list, copy);
});

// ── encodeAdverts / decodeAdvert ────────────────────────────────────────────

const entry = (key: string, hops: number, roles: AdvertEntry['roles'] = [], ip = '10.77.0.9'): AdvertEntry => ({ key, hops, roles, ip });

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

// ── How long an advertised role holds: the routing table, with an injected clock ─

const isGateway = (table: RoutingTable, key: string): boolean => table.get(key)?.roles.includes('gateway') ?? false;

test('RoutingTable: a neighbour\'s gateway role holds for ROUTE_TTL_MS after its advert, then expires', (t) => {
  const table = new RoutingTable(SELF);
  const t0 = 1_000_000;
  t.true(table.receive(KA, { roles: ['gateway'], ip: '10.77.0.1' }, [], t0), 'a new neighbour is a change');
  t.true(isGateway(table, KA));
  t.false(table.expire(t0 + ROUTE_TTL_MS - 1), 'nothing expires before the TTL');
  t.true(isGateway(table, KA));
  t.true(table.expire(t0 + ROUTE_TTL_MS), 'expiry at the TTL is a change');
  t.false(isGateway(table, KA));
  t.is(table.get(KA), undefined);
  t.deepEqual(table.reachable(), []);
  // Still advertised as unreachable for GC_MS (so neighbours learn), then forgotten.
  t.deepEqual(table.advertFor(KB).map((e) => [e.key, e.hops]), [[KA, INFINITY]]);
  table.expire(t0 + ROUTE_TTL_MS + GC_MS);
  t.deepEqual(table.advertFor(KB), []);
});

test('RoutingTable: a fresh advert restarts the TTL', (t) => {
  const table = new RoutingTable(SELF);
  const t0 = 5_000;
  table.receive(KA, { roles: ['gateway'], ip: '10.77.0.1' }, [], t0);
  t.false(table.receive(KA, { roles: ['gateway'], ip: '10.77.0.1' }, [], t0 + ADVERT_INTERVAL_MS), 'the same advert again is no change');
  table.expire(t0 + ROUTE_TTL_MS + 1);
  t.true(isGateway(table, KA), 'still a gateway: renewed one interval later');
  table.expire(t0 + ADVERT_INTERVAL_MS + ROUTE_TTL_MS);
  t.false(isGateway(table, KA));
});

test('RoutingTable: an advert without the role withdraws it at once', (t) => {
  const table = new RoutingTable(SELF);
  table.receive(KA, { roles: ['gateway'], ip: '10.77.0.1' }, [], 0);
  t.true(table.receive(KA, { roles: [], ip: '10.77.0.1' }, [], 1), 'withdrawing the role is a change');
  t.false(isGateway(table, KA));
  t.not(table.get(KA), undefined, 'the node itself stays reachable');
});

test('RoutingTable: a lost neighbour takes its role, and the gateways behind it, at once', (t) => {
  const table = new RoutingTable(SELF);
  table.receive(KA, { roles: [], ip: '10.77.0.1' }, [entry(KB, 1, ['gateway'], '10.77.0.2')], 0);
  t.true(isGateway(table, KB), 'a gateway two hops away, via A');
  t.is(table.get(KB)?.via, KA);
  t.is(table.get(KB)?.hops, 2);
  t.true(table.neighborLost(KA, 10));
  t.false(isGateway(table, KB));
  t.is(table.get(KA), undefined);
});

test('RoutingTable: unknown nodes have no roles; the table never routes to itself', (t) => {
  const table = new RoutingTable(SELF);
  table.receive(KA, { roles: ['gateway'], ip: '10.77.0.1' }, [entry(SELF, 1, ['gateway'], '10.77.0.9')], 0);
  t.false(isGateway(table, KC));
  t.is(table.get(SELF), undefined, "a neighbour's route back to us is ignored");
});

test('ROUTE_TTL_MS outlasts a few missed advert rounds, and only a few', (t) => {
  // A single lost advert must not drop a gateway; a stopped one must go within a minute.
  t.true(ROUTE_TTL_MS > 2 * ADVERT_INTERVAL_MS, `TTL ${ROUTE_TTL_MS} ms > two intervals of ${ADVERT_INTERVAL_MS} ms`);
  t.true(ROUTE_TTL_MS <= 60_000);
});

// ── config/edit.ts setKey ───────────────────────────────────────────────────

const PE: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };
const FILE = '/home/test/.config/pim/pim.toml';

const BASE = [
  '# pim config, written by hand',
  '[node]',
  'name = "laptop"   # what peers see',
  '',
  '[route]',
  'internet_via_mesh = false # off until the gateway is up',
  '',
  '[gateway]',
  '  enabled = false',
  'nat_interface = "eth0"',
  '',
  '# static peers',
  '[[peers]]',
  'address = "192.0.2.7:9100"',
  `public_key = "${'a'.repeat(64)}"`,
  'label = "home # router"',
  '',
].join('\n');

interface EditCase {
  rule: string;
  text: string;
  table: string;
  key: string;
  value: boolean | string | null;
  /** The exact text expected. */
  expected: string;
  /** What the edited config must read as. */
  check: (config: Config) => boolean;
}

const replaceLine = (text: string, from: string, to: string): string => {
  if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
  return text.replace(from, to);
};

const editCases: EditCase[] = [
  {
    rule: 'replace a value: the trailing comment and every other byte are kept',
    text: BASE,
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: replaceLine(BASE, 'internet_via_mesh = false # off until', 'internet_via_mesh = true # off until'),
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'replace an indented value: the indentation is kept',
    text: BASE,
    table: 'gateway',
    key: 'enabled',
    value: true,
    expected: replaceLine(BASE, '  enabled = false', '  enabled = true'),
    check: (c) => c.gateway.enabled,
  },
  {
    rule: 'replace a string value, written as a TOML string',
    text: BASE,
    table: 'gateway',
    key: 'nat_interface',
    value: 'veth-up.1',
    expected: replaceLine(BASE, 'nat_interface = "eth0"', 'nat_interface = "veth-up.1"'),
    check: (c) => c.gateway.nat_interface === 'veth-up.1',
  },
  {
    rule: 'insert into an existing table: right under its header, nothing else moves',
    text: replaceLine(BASE, '  enabled = false\n', ''),
    table: 'gateway',
    key: 'enabled',
    value: true,
    expected: replaceLine(BASE, '  enabled = false\n', 'enabled = true\n'),
    check: (c) => c.gateway.enabled && c.gateway.nat_interface === 'eth0',
  },
  {
    rule: 'append a new table when the file has none (after [[peers]], which stays intact)',
    text: replaceLine(BASE, '[route]\ninternet_via_mesh = false # off until the gateway is up\n\n', ''),
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: `${replaceLine(BASE, '[route]\ninternet_via_mesh = false # off until the gateway is up\n\n', '')}\n[route]\ninternet_via_mesh = true\n`,
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'append a new table to a file without a final newline',
    text: '[node]\nname = "x"',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: '[node]\nname = "x"\n\n[route]\ninternet_via_mesh = true\n',
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'append to an empty file',
    text: '',
    table: 'gateway',
    key: 'enabled',
    value: false,
    expected: '[gateway]\nenabled = false\n',
    check: (c) => !c.gateway.enabled,
  },
  {
    rule: 'null removes the key (its comment with it), nothing else changes',
    text: BASE,
    table: 'route',
    key: 'internet_via_mesh',
    value: null,
    expected: replaceLine(BASE, 'internet_via_mesh = false # off until the gateway is up\n', ''),
    check: (c) => !c.route.internet_via_mesh,
  },
  {
    rule: 'null for a key that is not there changes nothing',
    text: BASE,
    table: 'route',
    key: 'nonexistent',
    value: null,
    expected: BASE,
    check: () => true,
  },
  {
    rule: 'a "#" inside the string value is not taken for a comment',
    text: '[node]\nname = "lab #1" # shown to peers\n',
    table: 'node',
    key: 'name',
    value: 'lab #2',
    expected: '[node]\nname = "lab #2" # shown to peers\n',
    check: (c) => c.node.name === 'lab #2',
  },
  {
    rule: 'a trailing comment with an apostrophe is kept',
    text: "[route]\ninternet_via_mesh = false # don't route yet\n",
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: "[route]\ninternet_via_mesh = true # don't route yet\n",
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'a trailing comment with a double quote is kept',
    text: '[gateway]\nnat_interface = "eth0" # was "wlan0"\n',
    table: 'gateway',
    key: 'nat_interface',
    value: 'eth1',
    expected: '[gateway]\nnat_interface = "eth1" # was "wlan0"\n',
    check: (c) => c.gateway.nat_interface === 'eth1',
  },
  {
    rule: 'replace a top-level dotted key `route.internet_via_mesh = false`',
    text: 'route.internet_via_mesh = false\n[node]\nname = "x"\n',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: 'route.internet_via_mesh = true\n[node]\nname = "x"\n',
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'insert into a table defined only by dotted keys',
    text: 'gateway.enabled = true\n',
    table: 'gateway',
    key: 'nat_interface',
    value: 'eth0',
    expected: 'gateway.enabled = true\ngateway.nat_interface = "eth0"\n',
    check: (c) => c.gateway.enabled && c.gateway.nat_interface === 'eth0',
  },
  {
    rule: 'replace a key inside an inline table',
    text: 'route = { internet_via_mesh = false }\n',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: 'route = { internet_via_mesh = true }\n',
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'CRLF line endings are kept on the edited line',
    text: '[route]\r\ninternet_via_mesh = false\r\n[log]\r\nlevel = "info"\r\n',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: '[route]\r\ninternet_via_mesh = true\r\n[log]\r\nlevel = "info"\r\n',
    check: (c) => c.route.internet_via_mesh,
  },
];

for (const c of editCases) {
  const body = (t: ExecutionContext): void => {
    // The fixture itself must be a valid config, or the case proves nothing.
    const before = validateConfigText(c.text, FILE, PE);
    t.deepEqual(before.issues, [], 'the input is a valid config');
    const out = setKey(c.text, c.table, c.key, c.value);
    const after = validateConfigText(out, FILE, PE);
    t.deepEqual(after.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`), [], `the result re-validates:\n${out}`);
    t.is(out, c.expected);
    if (after.config !== null) t.true(c.check(after.config), 'the edited value reads back');
  };
  test(`setKey: ${c.rule}`, body);
}

test('setKey: every edit the daemon persists (daemon.ts persist) keeps the rest of a real config byte-for-byte', (t) => {
  // The sequence `pim gateway enable`, `pim route on`, `pim route off`, `pim gateway disable` runs.
  let text = BASE;
  const edits: [table: 'route' | 'gateway', key: string, value: boolean | string][] = [
    ['gateway', 'enabled', true],
    ['gateway', 'nat_interface', 'eth1'],
    ['route', 'internet_via_mesh', true],
    ['route', 'internet_via_mesh', false],
    ['gateway', 'enabled', false],
  ];
  for (const [table, key, value] of edits) {
    text = setKey(text, table, key, value);
    t.deepEqual(validateConfigText(text, FILE, PE).issues, [], `valid after ${table}.${key} = ${String(value)}`);
  }
  t.is(text, replaceLine(BASE, 'nat_interface = "eth0"', 'nat_interface = "eth1"'));
  // The peer's label with a "#" in a string was never touched.
  t.true(text.includes('label = "home # router"'));
});

test('setKey: idempotent — setting the value a key already has changes nothing', (t) => {
  t.is(setKey(BASE, 'route', 'internet_via_mesh', false), BASE);
  t.is(setKey(BASE, 'gateway', 'nat_interface', 'eth0'), BASE);
});
