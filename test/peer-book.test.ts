// The peer book (ts/peers/book.ts): resolving what a user typed to one peer,
// listing the peers the engine does not hold (trust records and refused
// attempts), and attributing failures by address; and the snapshot the
// daemon compiles with trust records (ts/daemon/snapshot.ts): paired peers
// are dialled, TOFU pins come from the store and static peers, allow_list
// mode trusts paired peers too. No root needed.

import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { PathEnv } from '../ts/config/paths.js';
import { buildDefaults, type Config, type PeerConfig } from '../ts/config/schema.js';
import { compileSnapshot, meshAddressing } from '../ts/daemon/snapshot.js';
import { ERRORS, PimError } from '../ts/errors.js';
import type { Identity } from '../ts/identity/identity.js';
import { meshIpTextFor } from '../ts/identity/mesh-ip.js';
import type { EngineSnapshot, PeerStatus } from '../ts/native/engine.js';
import { parseCidr } from '../ts/net/ipv4.js';
import { PeerBook } from '../ts/peers/book.js';
import { PairFailures } from '../ts/peers/failures.js';
import { RefusedAttempts } from '../ts/peers/refused.js';
import { TrustStore, type TrustRecord } from '../ts/trust/store.js';
import { newIdentity, newPublicKey, nodeIdOf } from './helpers/keys.js';
import { tempDir } from './helpers/tmp.js';

const PREFIX = parseCidr('10.77.0.0/16')!;
const meshIpOf = (publicKey: string): string => meshIpTextFor(nodeIdOf(publicKey), PREFIX);

interface Book {
  book: PeerBook;
  trust: TrustStore;
  failures: PairFailures;
  refused: RefusedAttempts;
}

async function newBook(t: ExecutionContext): Promise<Book> {
  const dir = tempDir(t, 'pim-book-test-');
  const trust = await TrustStore.load(path.join(dir, 'trust.json'));
  const failures = new PairFailures();
  const refused = new RefusedAttempts();
  return { book: new PeerBook(trust, failures, refused), trust, failures, refused };
}

function enginePeer(publicKey: string, endpoint: string | undefined, state: PeerStatus['state'] = 'active', configured = true): PeerStatus {
  // Asserted rather than annotated: fields the engine adds later do not matter to the book.
  return { publicKey, meshIp: meshIpOf(publicKey), ...(endpoint === undefined ? {} : { endpoint }), state, configured, rxBytes: 10, txBytes: 20 } as PeerStatus;
}

/**
 * Two "public keys" whose node_ids share their first 8 hex characters (a
 * birthday search on 32 bits). The book only hashes keys, so random bytes do.
 */
function keysSharingShortId(): [string, string] {
  const seen = new Map<number, string>();
  for (;;) {
    const key = randomBytes(32);
    const prefix = createHash('sha256').update(key).digest().readUInt32BE(0);
    const other = seen.get(prefix);
    if (other !== undefined && other !== key.toString('hex')) return [other, key.toString('hex')];
    seen.set(prefix, key.toString('hex'));
  }
}

function expectPimError(t: ExecutionContext, fn: () => unknown, code: keyof typeof ERRORS, message: RegExp): void {
  const err = t.throws(fn);
  t.true(err instanceof PimError, String(err));
  t.is((err as PimError).code, code);
  t.is((err as PimError).rpcCode, ERRORS[code].rpc ?? ERRORS.internal.rpc);
  t.regex(err!.message, message);
}

// ── resolve ──────────────────────────────────────────────────────────────────

test('resolve: a full node_id names the engine peer, with its current endpoint', async (t) => {
  const { book } = await newBook(t);
  const [a, b] = [newPublicKey(), newPublicKey()];
  const engine = [enginePeer(a, '192.0.2.7:9100'), enginePeer(b, undefined)];
  t.deepEqual(book.resolve(nodeIdOf(a), engine), { publicKey: a, nodeId: nodeIdOf(a), endpoint: '192.0.2.7:9100' });
  t.deepEqual(book.resolve(nodeIdOf(b), engine), { publicKey: b, nodeId: nodeIdOf(b), endpoint: null });
});

for (const len of [8, 9, 16, 31]) {
  test(`resolve: a unique ${len}-character prefix names the peer`, async (t) => {
    const { book } = await newBook(t);
    const [a, b, c] = [newPublicKey(), newPublicKey(), newPublicKey()];
    const engine = [enginePeer(a, '192.0.2.7:9100'), enginePeer(b, '192.0.2.8:9100'), enginePeer(c, '192.0.2.9:9100')];
    t.is(book.resolve(nodeIdOf(b).slice(0, len), engine).publicKey, b);
  });
}

test('resolve: the prefix is matched case-insensitively', async (t) => {
  const { book } = await newBook(t);
  const a = newPublicKey();
  t.is(book.resolve(nodeIdOf(a).slice(0, 8).toUpperCase(), [enginePeer(a, '192.0.2.7:9100')]).publicKey, a);
});

test('resolve: peers only in the trust store or the refused attempts resolve too', async (t) => {
  const { book, trust, refused } = await newBook(t);
  const [stored, storedNoEndpoint, refusedKey] = [newPublicKey(), newPublicKey(), newPublicKey()];
  trust.set(stored, '192.0.2.7:9100', 'tofu', new Date());
  trust.set(storedNoEndpoint, null, 'paired', new Date());
  refused.record(refusedKey, '198.51.100.4:9100', new Date());
  t.deepEqual(book.resolve(nodeIdOf(stored).slice(0, 8), []), { publicKey: stored, nodeId: nodeIdOf(stored), endpoint: '192.0.2.7:9100' });
  t.deepEqual(book.resolve(nodeIdOf(storedNoEndpoint), []), { publicKey: storedNoEndpoint, nodeId: nodeIdOf(storedNoEndpoint), endpoint: null });
  t.deepEqual(book.resolve(nodeIdOf(refusedKey).slice(0, 10), []), { publicKey: refusedKey, nodeId: nodeIdOf(refusedKey), endpoint: '198.51.100.4:9100' });
});

test('resolve: a peer known to the engine and the store is one match, with the engine endpoint', async (t) => {
  const { book, trust, refused } = await newBook(t);
  const a = newPublicKey();
  trust.set(a, '192.0.2.7:9100', 'tofu', new Date());
  refused.record(a, '192.0.2.66:9100', new Date());
  t.deepEqual(book.resolve(nodeIdOf(a).slice(0, 8), [enginePeer(a, '192.0.2.99:4000')]), { publicKey: a, nodeId: nodeIdOf(a), endpoint: '192.0.2.99:4000' });
  t.deepEqual(book.resolve(nodeIdOf(a).slice(0, 8), []).endpoint, '192.0.2.7:9100', 'without the engine, the store endpoint beats the refused source');
});

for (const short of ['', 'a', '0123456', 'abcdef1']) {
  test(`resolve: ${JSON.stringify(short)} (shorter than 8) → invalid_params`, async (t) => {
    const { book } = await newBook(t);
    const a = newPublicKey();
    const id = short === 'abcdef1' ? nodeIdOf(a).slice(0, 7) : short;
    expectPimError(t, () => book.resolve(id, [enginePeer(a, '192.0.2.7:9100')]), 'invalid_params', /too short|at least 8/);
  });
}

test('resolve: a prefix shared by two peers → invalid_params naming the ambiguity; the full node_ids still resolve', async (t) => {
  const { book, trust } = await newBook(t);
  const [a, b] = keysSharingShortId();
  t.is(nodeIdOf(a).slice(0, 8), nodeIdOf(b).slice(0, 8));
  trust.set(b, '192.0.2.8:9100', 'tofu', new Date());
  const engine = [enginePeer(a, '192.0.2.7:9100')];
  expectPimError(t, () => book.resolve(nodeIdOf(a).slice(0, 8), engine), 'invalid_params', /more than one peer/);
  t.is(book.resolve(nodeIdOf(a), engine).publicKey, a);
  t.is(book.resolve(nodeIdOf(b), engine).publicKey, b);
});

test('resolve: an unknown id → peer_not_found (-32010)', async (t) => {
  const { book, trust } = await newBook(t);
  const a = newPublicKey();
  trust.set(a, '192.0.2.7:9100', 'tofu', new Date());
  const other = nodeIdOf(newPublicKey());
  expectPimError(t, () => book.resolve(other, [enginePeer(newPublicKey(), '192.0.2.8:9100')]), 'peer_not_found', new RegExp(other));
  expectPimError(t, () => book.resolve(other.slice(0, 8), []), 'peer_not_found', /no peer/);
  t.is(ERRORS.peer_not_found.rpc, -32010);
});

test('resolve: an id that is not hex at all → peer_not_found', async (t) => {
  const { book } = await newBook(t);
  expectPimError(t, () => book.resolve('zzzzzzzzzz', [enginePeer(newPublicKey(), '192.0.2.8:9100')]), 'peer_not_found', /zzzzzzzzzz/);
});

test('resolve: a forgotten trust record no longer resolves', async (t) => {
  const { book, trust } = await newBook(t);
  const a = newPublicKey();
  trust.set(a, '192.0.2.7:9100', 'tofu', new Date());
  t.is(book.resolve(nodeIdOf(a), []).publicKey, a);
  trust.forget(nodeIdOf(a));
  expectPimError(t, () => book.resolve(nodeIdOf(a), []), 'peer_not_found', /no peer/);
});

// ── absent ───────────────────────────────────────────────────────────────────

test('absent: store records and refused attempts the engine does not hold, failed when a failure is recorded', async (t) => {
  const { book, trust, failures, refused } = await newBook(t);
  const [held, pinned, paired, stranger, failedStranger] = [newPublicKey(), newPublicKey(), newPublicKey(), newPublicKey(), newPublicKey()];
  trust.set(held, '192.0.2.1:9100', 'tofu', new Date());
  trust.set(pinned, '192.0.2.2:9100', 'tofu', new Date());
  trust.set(paired, null, 'paired', new Date());
  refused.record(held, '192.0.2.1:9100', new Date());
  refused.record(stranger, '198.51.100.3:9100', new Date());
  refused.record(failedStranger, '198.51.100.4:9100', new Date());
  failures.record(pinned, 'untrusted peer ID', new Date());
  failures.record(failedStranger, 'untrusted peer ID', new Date());
  failures.record(held, 'timeout', new Date());

  const out = book.absent([enginePeer(held, '192.0.2.1:9100', 'connecting')], PREFIX);
  const base = { configured: false, rxBytes: 0, txBytes: 0 };
  const expected = [
    { publicKey: pinned, meshIp: meshIpOf(pinned), endpoint: '192.0.2.2:9100', state: 'failed', ...base },
    { publicKey: paired, meshIp: meshIpOf(paired), state: 'connecting', ...base },
    { publicKey: stranger, meshIp: meshIpOf(stranger), endpoint: '198.51.100.3:9100', state: 'connecting', ...base },
    { publicKey: failedStranger, meshIp: meshIpOf(failedStranger), endpoint: '198.51.100.4:9100', state: 'failed', ...base },
  ];
  t.deepEqual(
    out.map((p) => p.publicKey),
    expected.map((p) => p.publicKey),
    'store records first, then refused attempts; the held peer is left out',
  );
  expected.forEach((e, i) => t.like(out[i], e));
  t.false('endpoint' in out[1]!, 'no endpoint key at all when none is known');
});

test('absent: a peer both pinned and refused is listed once, at its pinned endpoint', async (t) => {
  const { book, trust, refused } = await newBook(t);
  const a = newPublicKey();
  trust.set(a, '192.0.2.7:9100', 'tofu', new Date());
  refused.record(a, '192.0.2.66:9100', new Date());
  const out = book.absent([], PREFIX);
  t.is(out.length, 1);
  t.is(out[0]!.endpoint, '192.0.2.7:9100');
});

test('absent: nothing when the engine holds every known peer, or nothing is known', async (t) => {
  const { book, trust, refused } = await newBook(t);
  t.deepEqual(book.absent([], PREFIX), []);
  const [a, b] = [newPublicKey(), newPublicKey()];
  trust.set(a, '192.0.2.7:9100', 'tofu', new Date());
  refused.record(b, '192.0.2.8:9100', new Date());
  t.deepEqual(book.absent([enginePeer(a, undefined), enginePeer(b, '192.0.2.8:9100', 'active', false)], PREFIX), []);
});

test('absent: mesh IPs are derived inside the given prefix', async (t) => {
  const { book, trust } = await newBook(t);
  const a = newPublicKey();
  trust.set(a, null, 'paired', new Date());
  const prefix = parseCidr('172.20.0.0/16')!;
  t.is(book.absent([], prefix)[0]!.meshIp, meshIpTextFor(nodeIdOf(a), prefix));
});

test('absent: a cleared failure turns the row back to connecting; a forgotten refusal drops it', async (t) => {
  const { book, failures, refused } = await newBook(t);
  const a = newPublicKey();
  refused.record(a, '192.0.2.7:9100', new Date());
  failures.record(a, 'untrusted peer ID', new Date());
  t.is(book.absent([], PREFIX)[0]!.state, 'failed');
  failures.clear(a);
  t.is(book.absent([], PREFIX)[0]!.state, 'connecting');
  refused.forget(a);
  t.deepEqual(book.absent([], PREFIX), []);
});

// ── known / pinnedAt ─────────────────────────────────────────────────────────

test('known: engine first, then the store, then refused attempts, one entry per node', async (t) => {
  const { book, trust, refused } = await newBook(t);
  const [e, s, r] = [newPublicKey(), newPublicKey(), newPublicKey()];
  trust.set(e, '192.0.2.1:1', 'tofu', new Date());
  trust.set(s, '192.0.2.2:2', 'paired', new Date());
  refused.record(r, '192.0.2.3:3', new Date());
  refused.record(s, '192.0.2.4:4', new Date());
  const known = book.known([enginePeer(e, '192.0.2.9:9')]);
  t.deepEqual([...known.keys()], [nodeIdOf(e), nodeIdOf(s), nodeIdOf(r)]);
  t.is(known.get(nodeIdOf(e))!.endpoint, '192.0.2.9:9');
  t.is(known.get(nodeIdOf(s))!.endpoint, '192.0.2.2:2');
  t.is(known.get(nodeIdOf(r))!.endpoint, '192.0.2.3:3');
});

test('pinnedAt: the trusted peer recorded at an endpoint, else undefined', async (t) => {
  const { book, trust, refused } = await newBook(t);
  const [a, b, c] = [newPublicKey(), newPublicKey(), newPublicKey()];
  trust.set(a, '192.0.2.7:9100', 'tofu', new Date());
  trust.set(b, '192.0.2.8:9100', 'paired', new Date());
  trust.set(c, null, 'paired', new Date());
  refused.record(newPublicKey(), '192.0.2.9:9100', new Date());
  t.is(book.pinnedAt('192.0.2.7:9100'), a);
  t.is(book.pinnedAt('192.0.2.8:9100'), b);
  t.is(book.pinnedAt('192.0.2.9:9100'), undefined, 'a refused attempt is no pin');
  t.is(book.pinnedAt('192.0.2.7:9101'), undefined, 'the port is part of the endpoint');
  t.is(book.pinnedAt(''), undefined);
  trust.forget(nodeIdOf(a));
  t.is(book.pinnedAt('192.0.2.7:9100'), undefined, 'forgotten');
});

// ── compileSnapshot with trust records ───────────────────────────────────────

const PE: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };

function config(trust: Partial<Config['trust']>, peers: PeerConfig[]): Config {
  const d = buildDefaults(PE, 'box');
  return { ...d, trust: { ...d.trust, ...trust }, peers };
}

const record = (id: Identity, endpoint: string | null, source: TrustRecord['source']): TrustRecord => ({
  nodeId: id.nodeId,
  publicKey: id.publicKeyHex,
  endpoint,
  source,
  firstSeen: '2024-05-01T10:00:00.000Z',
});

interface World {
  me: Identity;
  /** static peer at 192.0.2.1:9100 */
  s1: Identity;
  /** static peer at 192.0.2.2:9100 */
  s2: Identity;
  /** paired peer with an endpoint, 198.51.100.1:9100 */
  p1: Identity;
  /** paired peer without an endpoint */
  p2: Identity;
  /** TOFU pin at 198.51.100.3:9100 */
  t1: Identity;
  /** TOFU pin without an endpoint */
  t2: Identity;
  /** an old TOFU pin at s1's address (s1's configured key wins there) */
  old: Identity;
}

const world = (): World => ({
  me: newIdentity(),
  s1: newIdentity(),
  s2: newIdentity(),
  p1: newIdentity(),
  p2: newIdentity(),
  t1: newIdentity(),
  t2: newIdentity(),
  old: newIdentity(),
});

const staticPeers = (w: World): PeerConfig[] => [
  { address: '192.0.2.1:9100', public_key: w.s1.publicKeyHex, label: 's1' },
  { address: '192.0.2.2:9100', public_key: w.s2.publicKeyHex, label: 's2' },
];

const records = (w: World): TrustRecord[] => [
  record(w.p1, '198.51.100.1:9100', 'paired'),
  record(w.p2, null, 'paired'),
  record(w.t1, '198.51.100.3:9100', 'tofu'),
  record(w.t2, null, 'tofu'),
  record(w.old, '192.0.2.1:9100', 'tofu'),
];

const endpointsOf = (w: World): Map<string, string> =>
  new Map([
    [w.s1.publicKeyHex, '192.0.2.1:9100'],
    [w.s2.publicKeyHex, '192.0.2.2:9100'],
  ]);

const peer = (id: Identity, endpoint?: string) => ({ publicKey: id.publicKeyHex, meshIp: meshIpOf(id.publicKeyHex), ...(endpoint === undefined ? {} : { endpoint }), persistent: true });
const pin = (endpoint: string, id: Identity) => ({ ip: endpoint.slice(0, endpoint.lastIndexOf(':')), nodeId: id.nodeId });
const byEndpoint = (pins: EngineSnapshot['pins']): EngineSnapshot['pins'] => [...pins].sort((x, y) => x.ip.localeCompare(y.ip));

interface SnapshotCase {
  rule: string;
  trust: (w: World) => Partial<Config['trust']>;
  peers: (w: World) => PeerConfig[];
  records: (w: World) => TrustRecord[];
  expectPeers: (w: World) => ReturnType<typeof peer>[];
  expectPins: (w: World) => EngineSnapshot['pins'];
  expectAllow: (w: World) => string[];
  /** One regex per expected problem, in order. */
  expectProblems: (w: World) => RegExp[];
}

const snapshotCases: SnapshotCase[] = [
  {
    rule: 'tofu: paired records with an endpoint become persistent peers after the static ones; the others are not dialled',
    trust: () => ({ mode: 'tofu' }),
    peers: staticPeers,
    records,
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100'), peer(w.s2, '192.0.2.2:9100'), peer(w.p1, '198.51.100.1:9100')],
    expectPins: (w) => [pin('192.0.2.1:9100', w.s1), pin('192.0.2.2:9100', w.s2), pin('198.51.100.1:9100', w.p1), pin('198.51.100.3:9100', w.t1)],
    expectAllow: (w) => [w.p1.nodeId, w.p2.nodeId, w.s1.nodeId, w.s2.nodeId],
    expectProblems: () => [],
  },
  {
    rule: 'tofu: pins hold every store record with an endpoint, even with no static peers',
    trust: () => ({ mode: 'tofu' }),
    peers: () => [],
    records,
    expectPeers: (w) => [peer(w.p1, '198.51.100.1:9100')],
    expectPins: (w) => [pin('192.0.2.1:9100', w.old), pin('198.51.100.1:9100', w.p1), pin('198.51.100.3:9100', w.t1)],
    expectAllow: (w) => [w.p1.nodeId, w.p2.nodeId],
    expectProblems: () => [],
  },
  {
    rule: "tofu: a static peer's endpoint pin overrides a store record at the same endpoint",
    trust: () => ({ mode: 'tofu' }),
    peers: (w) => [staticPeers(w)[0]!],
    records: (w) => [record(w.old, '192.0.2.1:9100', 'tofu')],
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100')],
    expectPins: (w) => [pin('192.0.2.1:9100', w.s1)],
    expectAllow: (w) => [w.s1.nodeId],
    expectProblems: () => [],
  },
  {
    rule: 'tofu: a paired record that is also a static peer is dialled once, as the static peer',
    trust: () => ({ mode: 'tofu' }),
    peers: (w) => [staticPeers(w)[0]!],
    records: (w) => [record(w.s1, '203.0.113.9:9100', 'paired')],
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100')],
    expectPins: (w) => [pin('192.0.2.1:9100', w.s1), pin('203.0.113.9:9100', w.s1)],
    expectAllow: (w) => [w.s1.nodeId],
    expectProblems: () => [],
  },
  {
    rule: 'allow_list: a static peer is trusted explicitly (listing its key is trust) and dialled; paired node_ids join them',
    trust: (w) => ({ mode: 'allow_list', allow_list: [w.s2.nodeId] }),
    peers: staticPeers,
    records,
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100'), peer(w.s2, '192.0.2.2:9100'), peer(w.p1, '198.51.100.1:9100')],
    expectPins: () => [],
    expectAllow: (w) => [w.s1.nodeId, w.s2.nodeId, w.p1.nodeId, w.p2.nodeId],
    expectProblems: () => [],
  },
  {
    rule: 'allow_list: an empty allow list still admits and dials the static peers; a TOFU record grants nothing',
    trust: () => ({ mode: 'allow_list', allow_list: [] }),
    peers: staticPeers,
    records: (w) => [record(w.t1, '198.51.100.3:9100', 'tofu')],
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100'), peer(w.s2, '192.0.2.2:9100')],
    expectPins: () => [],
    expectAllow: (w) => [w.s1.nodeId, w.s2.nodeId],
    expectProblems: () => [],
  },
  {
    rule: 'allow_list: a static peer that was paired is dialled though the configured allow list is empty',
    trust: () => ({ mode: 'allow_list', allow_list: [] }),
    peers: (w) => [staticPeers(w)[0]!],
    records: (w) => [record(w.s1, '192.0.2.1:9100', 'paired')],
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100')],
    expectPins: () => [],
    expectAllow: (w) => [w.s1.nodeId],
    expectProblems: () => [],
  },
  {
    rule: 'allow_list: TOFU records grant nothing',
    trust: () => ({ mode: 'allow_list', allow_list: [] }),
    peers: () => [],
    records: (w) => [record(w.t1, '198.51.100.3:9100', 'tofu'), record(w.t2, null, 'tofu')],
    expectPeers: () => [],
    expectPins: () => [],
    expectAllow: () => [],
    expectProblems: () => [],
  },
  {
    rule: 'allow_all: no pins at all; static and paired peers are dialled',
    trust: () => ({ mode: 'allow_all' }),
    peers: staticPeers,
    records,
    expectPeers: (w) => [peer(w.s1, '192.0.2.1:9100'), peer(w.s2, '192.0.2.2:9100'), peer(w.p1, '198.51.100.1:9100')],
    expectPins: () => [],
    expectAllow: (w) => [w.p1.nodeId, w.p2.nodeId, w.s1.nodeId, w.s2.nodeId],
    expectProblems: () => [],
  },
];

for (const c of snapshotCases) {
  test(`compileSnapshot with trust records: ${c.rule}`, (t) => {
    const w = world();
    const cfg = config(c.trust(w), c.peers(w));
    const { snapshot, problems } = compileSnapshot({ config: cfg, identity: w.me, addressing: meshAddressing(cfg, w.me), endpoints: endpointsOf(w), version: 3, trusted: c.records(w) });
    t.is(snapshot.trustMode, cfg.trust.mode);
    t.deepEqual(snapshot.peers, c.expectPeers(w));
    t.deepEqual(byEndpoint(snapshot.pins), byEndpoint(c.expectPins(w)));
    t.deepEqual([...snapshot.explicit].sort(), [...c.expectAllow(w)].sort());
    const expected = c.expectProblems(w);
    t.is(problems.length, expected.length, problems.map((p) => p.message).join('\n'));
    expected.forEach((re, i) => t.regex(problems[i]?.message ?? '', re));
  });
}

test('compileSnapshot with trust records: the allow list has no duplicates when a paired node is also configured', (t) => {
  const w = world();
  const cfg = config({ mode: 'allow_list', allow_list: [w.p1.nodeId] }, []);
  const { snapshot } = compileSnapshot({ config: cfg, identity: w.me, addressing: meshAddressing(cfg, w.me), endpoints: new Map(), version: 1, trusted: [record(w.p1, '198.51.100.1:9100', 'paired')] });
  t.deepEqual(snapshot.explicit, [w.p1.nodeId]);
});

test('compileSnapshot with trust records: the config allow list is not modified', (t) => {
  const w = world();
  const cfg = config({ mode: 'allow_list', allow_list: [w.s1.nodeId] }, []);
  compileSnapshot({ config: cfg, identity: w.me, addressing: meshAddressing(cfg, w.me), endpoints: new Map(), version: 1, trusted: records(w) });
  t.deepEqual(cfg.trust.allow_list, [w.s1.nodeId]);
});

test('compileSnapshot with trust records: a paired record colliding on the mesh IP with a static peer is left out with a problem', (t) => {
  const prefix = '10.99.0.0/29';
  const ip = (id: Identity): string => meshIpTextFor(id.nodeId, parseCidr(prefix)!);
  let ids: Identity[] = [];
  for (let tries = 0; tries < 10_000; tries++) {
    ids = [newIdentity(), newIdentity(), newIdentity()];
    if (ip(ids[1]!) === ip(ids[2]!) && ip(ids[1]!) !== ip(ids[0]!)) break;
  }
  const [me, s, p] = ids as [Identity, Identity, Identity];
  const d = buildDefaults(PE, 'box');
  const cfg: Config = { ...d, interface: { ...d.interface, mesh_ipv4_prefix: prefix }, peers: [{ address: '192.0.2.1:9100', public_key: s.publicKeyHex, label: 'stat' }] };
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints: new Map([[s.publicKeyHex, '192.0.2.1:9100']]), version: 1, trusted: [record(p, '198.51.100.1:9100', 'paired')] });
  t.deepEqual(
    snapshot.peers.map((x) => x.publicKey),
    [s.publicKeyHex],
  );
  t.is(problems.length, 1);
  t.is(problems[0]!.publicKey, p.publicKeyHex);
  t.regex(problems[0]!.message, /mesh IP collision/);
  t.regex(problems[0]!.message, new RegExp(`paired peer ${p.nodeId.slice(0, 8)}`));
});

test('compileSnapshot with trust records: a record pim cannot dial (a relay address from an older store) is reported and skipped; the snapshot still compiles', (t) => {
  const w = world();
  const cfg = config({ mode: 'tofu' }, []);
  const { snapshot, problems } = compileSnapshot({
    config: cfg,
    identity: w.me,
    addressing: meshAddressing(cfg, w.me),
    endpoints: new Map(),
    version: 1,
    trusted: [record(w.p1, 'relay:0badcafe', 'paired'), record(w.p2, '198.51.100.2:9100', 'paired')],
  });
  t.deepEqual(snapshot.peers.map((p) => p.publicKey), [w.p2.publicKeyHex], 'the good record is dialled');
  t.true(snapshot.explicit.includes(w.p1.nodeId), 'the pairing still counts as explicit trust');
  t.is(problems.length, 1);
  t.regex(problems[0]!.message, /relay:0badcafe.*not ip:port; not dialled/);
});

test('compileSnapshot: a low-order public key (all zeros) anywhere is skipped with a problem, never given to the engine', (t) => {
  const w = world();
  const zero = '0'.repeat(64);
  const cfg = config({ mode: 'allow_all' }, [{ address: '192.0.2.9:9100', public_key: zero, label: 'zero' }]);
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: w.me, addressing: meshAddressing(cfg, w.me), endpoints: new Map([[zero, '192.0.2.9:9100']]), version: 1 });
  t.deepEqual(snapshot.peers, []);
  t.regex(problems[0]?.message ?? '', /low-order public key/);
});
