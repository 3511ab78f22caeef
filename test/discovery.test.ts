// LAN discovery, no root needed: the announcement's wire format
// (ts/discovery/announce.ts) and the table of nodes heard
// (ts/discovery/discovery.ts) with an injected clock.

import test from 'ava';
import { decodeAnnouncement, encodeAnnouncement, ANNOUNCE_VERSION, type Announcement } from '../ts/discovery/announce.js';
import { ANNOUNCE_RATE, Discovery, MAX_NODES, MAX_SOURCES, type DiscoveredNode } from '../ts/discovery/discovery.js';
import { nodeIdFromPublicKey } from '../ts/identity/node-id.js';
import { seededKey } from './helpers/keys.js';
import { FakeLan } from './helpers/lan.js';

// ── Discovery announcements ─────────────────────────────────────────────────

const PUB_HEX = seededKey('announce key');
const PUB = Buffer.from(PUB_HEX, 'hex');
const PUB2_HEX = seededKey('announce key 2');

const ann = (over: Partial<Omit<Announcement, 'nodeId'>> = {}): Omit<Announcement, 'nodeId'> => ({
  publicKey: PUB_HEX,
  port: 9100,
  name: 'laptop',
  roles: [],
  ...over,
});

test('announcement: round trip with the documented layout', (t) => {
  const buf = encodeAnnouncement(ann({ roles: ['gateway'], port: 51820, name: 'gw-ü' }));
  t.is(buf.subarray(0, 4).toString('latin1'), 'PIMD');
  t.is(buf[4], ANNOUNCE_VERSION);
  t.is(buf[5], 0x01, 'gateway flag');
  t.is(buf.readUInt16BE(6), 51820);
  t.deepEqual(buf.subarray(8, 40), PUB);
  t.is(buf.subarray(40, 56).toString('hex'), nodeIdFromPublicKey(PUB));
  t.is(buf[56], Buffer.byteLength('gw-ü'));
  t.is(buf.length, 57 + Buffer.byteLength('gw-ü'));
  t.deepEqual(decodeAnnouncement(buf), {
    ok: true,
    announcement: { publicKey: PUB_HEX, nodeId: nodeIdFromPublicKey(PUB), port: 51820, name: 'gw-ü', roles: ['gateway'] },
  });
});

test('announcement: round trip without roles and with an empty name; a long name is cut to 64 bytes', (t) => {
  const plain = decodeAnnouncement(encodeAnnouncement(ann({ name: '' })));
  t.like(plain, { ok: true, announcement: { name: '', roles: [], port: 9100 } });
  const long = decodeAnnouncement(encodeAnnouncement(ann({ name: 'n'.repeat(100) })));
  t.like(long, { ok: true, announcement: { name: 'n'.repeat(64) } });
});

test('announcement: unknown flag bits are ignored', (t) => {
  const buf = encodeAnnouncement(ann());
  buf[5] = 0xfe;
  t.like(decodeAnnouncement(buf), { ok: true, announcement: { roles: [] } });
});

function mutated(f: (b: Buffer) => Buffer): Buffer {
  return f(Buffer.from(encodeAnnouncement(ann({ name: 'abc' }))));
}

const badAnnouncements: [string, Buffer, 'malformed' | 'spoofed'][] = [
  ['empty', Buffer.alloc(0), 'malformed'],
  ['shorter than the 57-byte header', mutated((b) => b.subarray(0, 56)), 'malformed'],
  ['one byte of the name missing', mutated((b) => b.subarray(0, b.length - 1)), 'malformed'],
  ['one byte more than the name length says', mutated((b) => Buffer.concat([b, Buffer.from([0x41])])), 'malformed'],
  [
    'a name length above 64 (with that many bytes)',
    (() => {
      const b = Buffer.concat([encodeAnnouncement(ann({ name: '' })), Buffer.alloc(65, 0x41)]);
      b[56] = 65;
      return b;
    })(),
    'malformed',
  ],
  ['wrong magic', mutated((b) => (b.write('PIMX', 0, 'latin1'), b)), 'malformed'],
  ['lower-case magic', mutated((b) => (b.write('pimd', 0, 'latin1'), b)), 'malformed'],
  ['version 2', mutated((b) => ((b[4] = 2), b)), 'malformed'],
  ['version 0', mutated((b) => ((b[4] = 0), b)), 'malformed'],
  ['port 0', mutated((b) => (b.writeUInt16BE(0, 6), b)), 'malformed'],
  ['a node_id that does not match the key', mutated((b) => ((b[40] ^= 0x01), b)), 'spoofed'],
  ['another node’s key with this node_id', mutated((b) => (Buffer.from(PUB2_HEX, 'hex').copy(b, 8), b)), 'spoofed'],
  ['an all-zero node_id', mutated((b) => (b.fill(0, 40, 56), b)), 'spoofed'],
];

for (const [what, buf, reason] of badAnnouncements) {
  test(`announcement: ${what} → ${reason}`, (t) => {
    t.deepEqual(decodeAnnouncement(buf), { ok: false, reason });
  });
}

// ── Discovery's table ───────────────────────────────────────────────────────

const SELF_KEY = seededKey('discovery self');

function discovery(now: { t: number }): { d: Discovery; heard: DiscoveredNode[] } {
  const heard: DiscoveredNode[] = [];
  const d = new Discovery({
    transport: new FakeLan(),
    port: 9101,
    intervalS: 2,
    meshInterface: 'pim0',
    self: () => ({ publicKey: SELF_KEY, port: 9100, name: 'me', roles: [] }),
    onDiscovered: (n) => heard.push(n),
    now: () => now.t,
  });
  return { d, heard };
}

test('Discovery.receive: counts malformed and spoofed announcements, lists neither', (t) => {
  const now = { t: 1000 };
  const { d, heard } = discovery(now);
  // Each from its own address, so none is over its source's rate.
  badAnnouncements.forEach(([, buf], i) => d.receive(buf, { address: `198.18.5.${10 + i}` }));
  const expected = {
    malformed: badAnnouncements.filter(([, , r]) => r === 'malformed').length,
    spoofed: badAnnouncements.filter(([, , r]) => r === 'spoofed').length,
    rate_limited: 0,
  };
  t.deepEqual(d.dropped, expected);
  t.deepEqual(d.list(), []);
  t.deepEqual(heard, []);
});

test('Discovery.receive: its own announcement is ignored (not listed, not counted)', (t) => {
  const now = { t: 1000 };
  const { d, heard } = discovery(now);
  d.receive(encodeAnnouncement({ publicKey: SELF_KEY, port: 9100, name: 'me', roles: [] }), { address: '198.18.5.1' });
  t.deepEqual(d.list(), []);
  t.deepEqual(heard, []);
  t.deepEqual(d.dropped, { malformed: 0, spoofed: 0, rate_limited: 0 });
});

test('Discovery.receive: lists a node at the sender address with the announced port; reports it once, and again at a new address', (t) => {
  const now = { t: 1000 };
  const { d, heard } = discovery(now);
  const buf = encodeAnnouncement(ann({ port: 9200, name: 'bravo', roles: ['gateway'] }));
  d.receive(buf, { address: '198.18.5.2' });
  now.t = 3000;
  d.receive(buf, { address: '198.18.5.2' });
  t.is(heard.length, 1, 'the same node at the same address is reported once');
  t.like(d.list(), [{ publicKey: PUB_HEX, nodeId: nodeIdFromPublicKey(PUB), address: '198.18.5.2:9200', name: 'bravo', roles: ['gateway'], firstSeen: 1000, lastSeen: 3000 }]);
  d.receive(buf, { address: '198.18.5.7' });
  t.is(heard.length, 2, 'a new address is reported');
  t.like(heard[1], { address: '198.18.5.7:9200', firstSeen: 1000 });
  t.is(d.list().length, 1, 'still one node');
});

test('Discovery.list: a node not heard for 3 intervals drops out; hearing it again brings it back', (t) => {
  const now = { t: 0 };
  const { d } = discovery(now);
  d.receive(encodeAnnouncement(ann()), { address: '198.18.5.2' });
  now.t = 3 * 2000;
  t.is(d.list().length, 1, 'heard exactly 3 intervals ago: still listed');
  now.t = 3 * 2000 + 1;
  t.is(d.list().length, 0, 'longer ago: no longer listed');
  d.receive(encodeAnnouncement(ann()), { address: '198.18.5.2' });
  t.is(d.list().length, 1);
});

test('Discovery.receive: holds at most MAX_NODES (256) nodes, evicting the one heard longest ago', (t) => {
  const now = { t: 0 };
  const { d } = discovery(now);
  const keys = Array.from({ length: MAX_NODES + 1 }, (_, i) => seededKey(`node ${i}`));
  keys.forEach((k, i) => {
    now.t = i;
    // Each node at its own address: one address is rate-limited (below).
    d.receive(encodeAnnouncement({ publicKey: k, port: 9100, name: `n${i}`, roles: [] }), { address: `198.18.${i >> 8}.${i & 255}` });
  });
  const listed = new Set(d.list().map((n) => n.publicKey));
  t.is(MAX_NODES, 256);
  t.is(listed.size, MAX_NODES);
  t.false(listed.has(keys[0]!), 'the oldest was evicted');
  t.true(listed.has(keys[256]!));
});

test('Discovery.receive: one source address gets ANNOUNCE_RATE (a burst of 10, then 2 a second); more is dropped and counted before parsing', (t) => {
  const now = { t: 0 };
  const { d } = discovery(now);
  const from = { address: '198.18.5.2' };
  const keys = Array.from({ length: 20 }, (_, i) => seededKey(`burst ${i}`));
  for (const k of keys) d.receive(encodeAnnouncement({ publicKey: k, port: 9100, name: 'x', roles: [] }), from);
  t.is(ANNOUNCE_RATE.burst, 10);
  t.is(d.list().length, ANNOUNCE_RATE.burst, 'the burst');
  t.is(d.dropped.rate_limited, keys.length - ANNOUNCE_RATE.burst);
  d.receive(Buffer.from('junk'), from);
  t.is(d.dropped.malformed, 0, 'over the rate: not even parsed');
  now.t = 1000 / ANNOUNCE_RATE.perSec;
  d.receive(encodeAnnouncement({ publicKey: seededKey('later'), port: 9100, name: 'x', roles: [] }), from);
  t.is(d.list().length, ANNOUNCE_RATE.burst + 1, 'one more after 1/perSec');
  d.receive(encodeAnnouncement(ann()), { address: '198.18.5.3' });
  t.is(d.list().length, ANNOUNCE_RATE.burst + 2, 'another address has its own bucket');
});

test('Discovery.receive: at most MAX_SOURCES addresses are remembered; while all are busy a new one is dropped', (t) => {
  const now = { t: 0 };
  const { d } = discovery(now);
  const junk = Buffer.from('junk');
  // Every source spends its whole burst, so none can be forgotten.
  for (let i = 0; i < MAX_SOURCES; i++) {
    for (let j = 0; j < ANNOUNCE_RATE.burst; j++) d.receive(junk, { address: `10.${i >> 8}.${i & 255}.1` });
  }
  t.is(d.dropped.malformed, MAX_SOURCES * ANNOUNCE_RATE.burst);
  d.receive(encodeAnnouncement(ann()), { address: '198.18.9.9' });
  t.is(d.dropped.rate_limited, 1, 'no room for a new source');
  now.t = (ANNOUNCE_RATE.burst / ANNOUNCE_RATE.perSec) * 1000;
  d.receive(encodeAnnouncement(ann()), { address: '198.18.9.9' });
  t.is(d.list().length, 1, 'refilled sources were forgotten to make room');
});
