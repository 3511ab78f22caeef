// Pure parts of the mesh (issue 8), no root needed: the distance-vector
// routing table (ts/routing/distance-vector.ts) with an injected clock, the
// advertisement wire format (ts/routing/adverts.ts), and LAN discovery's
// announcements (ts/discovery/announce.ts) and table (discovery.ts).

import test from 'ava';
import { createHash } from 'node:crypto';
import { decodeAnnouncement, encodeAnnouncement, ANNOUNCE_VERSION, type Announcement } from '../ts/discovery/announce.js';
import { Discovery, type DiscoveredNode } from '../ts/discovery/discovery.js';
import type { DiscoveryTransport } from '../ts/discovery/transport.js';
import { nodeIdFromPublicKey } from '../ts/identity/node-id.js';
import { ADVERT_VERSION, MAX_ADVERT_BYTES, decodeAdvert, encodeAdverts, type Advert, type Role } from '../ts/routing/adverts.js';
import { GC_MS, INFINITY, ROUTE_TTL_MS, RoutingTable, type AdvertEntry } from '../ts/routing/distance-vector.js';

// ── Keys and names ──────────────────────────────────────────────────────────

/** A deterministic 64-hex "public key" per name (the table never checks keys are on the curve). */
const key = (name: string): string => createHash('sha256').update(`pim-mesh-unit ${name}`).digest('hex');
const NAMES = ['S', 'N1', 'N2', 'N3', 'D', 'E', 'F', 'X'] as const;
type Name = (typeof NAMES)[number];
const K = Object.fromEntries(NAMES.map((n) => [n, key(n)])) as Record<Name, string>;
const nameOf = (k: string): string => NAMES.find((n) => K[n] === k) ?? k.slice(0, 8);
const ipOf = (n: Name): string => `10.77.0.${NAMES.indexOf(n) + 1}`;
const SELF: Name = 'S';

/** An advert entry: `dest` at `hops` from the sender. */
const at = (dest: Name, hops: number, roles: Role[] = []): AdvertEntry => ({ key: K[dest], hops, roles, ip: ipOf(dest) });

// ── RoutingTable, table-driven ──────────────────────────────────────────────

type Step =
  | { t: number; from: Name; entries: AdvertEntry[]; roles?: Role[]; returns?: boolean }
  | { t: number; lost: Name; returns?: boolean }
  | { t: number; expire: true; returns?: boolean };

function apply(table: RoutingTable, s: Step): boolean {
  if ('from' in s) return table.receive(K[s.from], { roles: s.roles ?? [], ip: ipOf(s.from) }, s.entries, s.t);
  if ('lost' in s) return table.neighborLost(K[s.lost], s.t);
  return table.expire(s.t);
}

/** The reachable routes as "dest via next hops", sorted. */
const reachableView = (table: RoutingTable): string[] =>
  table
    .reachable()
    .map((r) => `${nameOf(r.key)} via ${nameOf(r.via)} ${r.hops}`)
    .sort();

/**
 * Every route the table still holds, reachable or not, as advertised to a
 * node that is nobody's next hop (so nothing is poisoned): "dest hops".
 */
const heldView = (table: RoutingTable): string[] =>
  table
    .advertFor(K.X)
    .map((e) => `${nameOf(e.key)} ${e.hops}`)
    .sort();

interface TableCase {
  rule: string;
  steps: Step[];
  reachable: string[];
  /** Everything held (unreachable routes at INFINITY); omitted: same as reachable. */
  held?: string[];
}

const tableCases: TableCase[] = [
  {
    rule: 'learns the neighbour itself at 1 hop and each of its routes one hop further, through it',
    steps: [{ t: 0, from: 'N1', entries: [at('D', 1), at('E', 3)], returns: true }],
    reachable: ['D via N1 2', 'E via N1 4', 'N1 via N1 1'],
  },
  {
    rule: 'an identical advertisement again changes nothing (no triggered update)',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)], returns: true },
      { t: 5_000, from: 'N1', entries: [at('D', 1)], returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
  {
    rule: 'a changed role of a destination is a change (its route carries it)',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)], returns: true },
      { t: 1_000, from: 'N1', entries: [at('D', 1, ['gateway'])], returns: true },
      { t: 2_000, from: 'N1', roles: ['gateway'], entries: [at('D', 1, ['gateway'])], returns: true },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
  {
    rule: 'a shorter route through another neighbour replaces a longer one',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 3)] },
      { t: 1_000, from: 'N2', entries: [at('D', 1)], returns: true },
    ],
    reachable: ['D via N2 2', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: 'an equally long route through another neighbour does not replace the current one (no flapping)',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 2)] },
      { t: 1_000, from: 'N2', entries: [at('D', 2)] },
      { t: 2_000, from: 'N2', entries: [at('D', 2)], returns: false },
    ],
    reachable: ['D via N1 3', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: 'a longer route through another neighbour is ignored',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N2', entries: [at('D', 4)] },
      { t: 2_000, from: 'N2', entries: [at('D', 4)], returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: "the current next hop's worse news counts, even with a better offer heard before",
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N2', entries: [at('D', 3)] },
      { t: 2_000, from: 'N1', entries: [at('D', 5)], returns: true },
    ],
    reachable: ['D via N1 6', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: "after the next hop's worse news, the other neighbour's next advertisement wins",
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N2', entries: [at('D', 3)] },
      { t: 2_000, from: 'N1', entries: [at('D', 5)] },
      { t: 3_000, from: 'N2', entries: [at('D', 3)], returns: true },
    ],
    reachable: ['D via N2 4', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: "the current next hop's poison (INFINITY) makes the route unreachable, but it is still held",
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N1', entries: [at('D', INFINITY)], returns: true },
    ],
    reachable: ['N1 via N1 1'],
    held: [`D ${INFINITY}`, 'N1 1'],
  },
  {
    rule: 'an unreachable route is replaced by any finite one, however long',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N1', entries: [at('D', INFINITY)] },
      { t: 2_000, from: 'N2', entries: [at('D', 13)], returns: true },
    ],
    reachable: ['D via N2 14', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: "another neighbour's poison for a route it is not next hop of changes nothing",
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N2', entries: [at('D', INFINITY)] },
      { t: 2_000, from: 'N2', entries: [at('D', INFINITY)], returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: 'hops are capped at INFINITY: 15 + 1 is unreachable and never learned, nor are larger counts',
    steps: [{ t: 0, from: 'N1', entries: [at('D', INFINITY - 1), at('E', INFINITY), at('F', 1000)] }],
    reachable: ['N1 via N1 1'],
    held: ['N1 1'],
  },
  {
    rule: 'hops are capped at INFINITY: a huge count from the next hop is held as INFINITY, not more',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N1', entries: [at('D', 1000)], returns: true },
    ],
    reachable: ['N1 via N1 1'],
    held: [`D ${INFINITY}`, 'N1 1'],
  },
  {
    rule: 'the longest reachable route is INFINITY − 1 hops',
    steps: [{ t: 0, from: 'N1', entries: [at('D', INFINITY - 2)] }],
    reachable: [`D via N1 ${INFINITY - 1}`, 'N1 via N1 1'],
  },
  {
    rule: "this node's own key in an advertisement is ignored",
    steps: [{ t: 0, from: 'N1', entries: [at(SELF, 1), at('D', 1)] }],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
  {
    rule: "a neighbour's entry for itself is ignored: it is 1 hop away",
    steps: [{ t: 0, from: 'N1', entries: [at('N1', 5)] }],
    reachable: ['N1 via N1 1'],
  },
  {
    rule: 'a node heard through a neighbour becomes direct when it is heard as a neighbour itself',
    steps: [
      { t: 0, from: 'N1', entries: [at('N2', 1)] },
      { t: 1_000, from: 'N2', entries: [], returns: true },
      { t: 2_000, from: 'N1', entries: [at('N2', 1)], returns: false },
    ],
    reachable: ['N1 via N1 1', 'N2 via N2 1'],
  },
  {
    rule: 'neighborLost makes the neighbour and every route through it unreachable, others stay',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1), at('E', 2)] },
      { t: 0, from: 'N2', entries: [at('F', 1)] },
      { t: 1_000, lost: 'N1', returns: true },
      { t: 2_000, lost: 'N1', returns: false },
    ],
    reachable: ['F via N2 2', 'N2 via N2 1'],
    held: [`D ${INFINITY}`, `E ${INFINITY}`, 'F 2', `N1 ${INFINITY}`, 'N2 1'],
  },
  {
    rule: 'neighborLost of a node that is nobody\u2019s next hop changes nothing',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, lost: 'N3', returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
  {
    rule: 'after neighborLost, another neighbour’s route is taken at once',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 0, from: 'N2', entries: [at('D', 2)] },
      { t: 1_000, lost: 'N1' },
      { t: 2_000, from: 'N2', entries: [at('D', 2)], returns: true },
    ],
    reachable: ['D via N2 3', 'N2 via N2 1'],
    held: ['D 3', `N1 ${INFINITY}`, 'N2 1'],
  },
  {
    rule: 'a route is reachable until just before ROUTE_TTL_MS without refresh',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: ROUTE_TTL_MS - 1, expire: true, returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
  {
    rule: 'a route not refreshed for ROUTE_TTL_MS becomes unreachable (a change), and is still held',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: ROUTE_TTL_MS, expire: true, returns: true },
      { t: ROUTE_TTL_MS + 1, expire: true, returns: false },
    ],
    reachable: [],
    held: [`D ${INFINITY}`, `N1 ${INFINITY}`],
  },
  {
    rule: 'a refreshed route does not expire at ROUTE_TTL_MS after its first advertisement',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 20_000, from: 'N1', entries: [at('D', 1)] },
      { t: ROUTE_TTL_MS, expire: true, returns: false },
      { t: 20_000 + ROUTE_TTL_MS - 1, expire: true, returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
  {
    rule: 'only the stale routes expire: the neighbour re-advertised without D keeps itself but loses D',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 20_000, from: 'N1', entries: [] },
      { t: ROUTE_TTL_MS, expire: true, returns: true },
    ],
    reachable: ['N1 via N1 1'],
    held: [`D ${INFINITY}`, 'N1 1'],
  },
  {
    rule: 'an unreachable route is held GC_MS after it became unreachable (advertised at INFINITY) ...',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: ROUTE_TTL_MS, expire: true },
      { t: ROUTE_TTL_MS + GC_MS - 1, expire: true, returns: false },
    ],
    reachable: [],
    held: [`D ${INFINITY}`, `N1 ${INFINITY}`],
  },
  {
    rule: '... and forgotten at GC_MS (garbage collection is not a reachability change)',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: ROUTE_TTL_MS, expire: true },
      { t: ROUTE_TTL_MS + GC_MS, expire: true, returns: false },
    ],
    reachable: [],
    held: [],
  },
  {
    rule: 'garbage collection counts from the first poison, not from each repeated one',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, from: 'N1', entries: [at('D', INFINITY)] },
      { t: 11_000, from: 'N1', entries: [at('D', INFINITY)] },
      { t: 1_000 + GC_MS, expire: true },
    ],
    reachable: ['N1 via N1 1'],
    held: ['N1 1'],
  },
  {
    rule: 'a lost neighbour’s routes are held until GC_MS after the loss ...',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 5_000, lost: 'N1' },
      { t: 5_000 + GC_MS - 1, expire: true, returns: false },
    ],
    reachable: [],
    held: [`D ${INFINITY}`, `N1 ${INFINITY}`],
  },
  {
    rule: '... and forgotten then',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 5_000, lost: 'N1' },
      { t: 5_000 + GC_MS, expire: true, returns: false },
    ],
    reachable: [],
    held: [],
  },
  {
    rule: 'a route that became reachable again is not garbage-collected on its old schedule',
    steps: [
      { t: 0, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000, lost: 'N1' },
      { t: 2_000, from: 'N1', entries: [at('D', 1)] },
      { t: 1_000 + GC_MS, expire: true, returns: false },
    ],
    reachable: ['D via N1 2', 'N1 via N1 1'],
  },
];

for (const c of tableCases) {
  test(`RoutingTable: ${c.rule}`, (t) => {
    const table = new RoutingTable(K[SELF]);
    c.steps.forEach((s, i) => {
      const r = apply(table, s);
      if (s.returns !== undefined) t.is(r, s.returns, `step ${i + 1} (${JSON.stringify(s).slice(0, 80)}) returns ${s.returns}`);
    });
    t.deepEqual(reachableView(table), [...c.reachable].sort(), 'reachable routes');
    t.deepEqual(heldView(table), [...(c.held ?? c.reachable.map((r) => r.replace(/ via \S+/, '')))].sort(), 'routes held');
    // get() agrees with reachable(): a held but unreachable route is not returned.
    for (const n of NAMES) {
      const reachable = c.reachable.some((r) => r.startsWith(`${n} via`));
      t.is(table.get(K[n]) !== undefined, reachable, `get(${n})`);
    }
  });
}

test('RoutingTable: a route keeps the destination’s advertised IP and roles, and stamps updatedAt with the injected time', (t) => {
  const table = new RoutingTable(K.S);
  table.receive(K.N1, { roles: ['gateway'], ip: '10.77.9.9' }, [{ key: K.D, hops: 2, roles: ['gateway'], ip: '10.77.8.8' }], 1234);
  t.like(table.get(K.N1), { key: K.N1, via: K.N1, hops: 1, roles: ['gateway'], ip: '10.77.9.9', updatedAt: 1234, unreachableSince: null });
  t.like(table.get(K.D), { key: K.D, via: K.N1, hops: 3, roles: ['gateway'], ip: '10.77.8.8', updatedAt: 1234, unreachableSince: null });
  table.neighborLost(K.N1, 5000);
  t.like(table.advertFor(K.X).find((e) => e.key === K.D), { hops: INFINITY, ip: '10.77.8.8' });
});

// ── Split horizon with poison reverse ───────────────────────────────────────

interface HorizonCase {
  rule: string;
  to: Name;
  expected: string[];
}

/** S hears N1 (D at 1, E at 3) and N2 (E at 1, F at 2). */
function horizonTable(): RoutingTable {
  const table = new RoutingTable(K.S);
  table.receive(K.N1, { roles: [], ip: ipOf('N1') }, [at('D', 1), at('E', 3)], 0);
  table.receive(K.N2, { roles: ['gateway'], ip: ipOf('N2') }, [at('E', 1), at('F', 2, ['gateway'])], 0);
  return table;
}

const horizonCases: HorizonCase[] = [
  {
    rule: 'to N1: routes through N1 poisoned (INFINITY), N1 itself left out, the others at their hops',
    to: 'N1',
    expected: [`D ${INFINITY}`, 'E 2', 'F 3 gateway', 'N2 1 gateway'],
  },
  {
    rule: 'to N2: routes through N2 poisoned, N2 itself left out',
    to: 'N2',
    expected: ['D 2', `E ${INFINITY}`, `F ${INFINITY} gateway`, 'N1 1'],
  },
  {
    rule: 'to a node that is nobody’s next hop: everything at its real distance',
    to: 'X',
    expected: ['D 2', 'E 2', 'F 3 gateway', 'N1 1', 'N2 1 gateway'],
  },
  {
    rule: 'to a destination that is not a neighbour (D): it is left out, nothing is poisoned',
    to: 'D',
    expected: ['E 2', 'F 3 gateway', 'N1 1', 'N2 1 gateway'],
  },
];

for (const c of horizonCases) {
  test(`RoutingTable.advertFor: ${c.rule}`, (t) => {
    const entries = horizonTable().advertFor(K[c.to]);
    t.deepEqual(entries.map((e) => `${nameOf(e.key)} ${e.hops}${e.roles.length ? ` ${e.roles.join(',')}` : ''}`).sort(), c.expected);
    t.false(entries.some((e) => e.key === K.S), 'never advertises a route to the node itself');
    for (const e of entries) t.is(e.ip, ipOf(nameOf(e.key) as Name), `${nameOf(e.key)} keeps its IP`);
  });
}

test('RoutingTable: poison reverse keeps two neighbours from using each other for a destination they lost (no count to infinity)', (t) => {
  // Line X — N1 — S: S knows X through N1; N1 knows X directly.
  const s = new RoutingTable(K.S);
  const n1 = new RoutingTable(K.N1);
  n1.receive(K.X, { roles: [], ip: ipOf('X') }, [], 0);
  s.receive(K.N1, { roles: [], ip: ipOf('N1') }, n1.advertFor(K.S), 0);
  n1.receive(K.S, { roles: [], ip: ipOf('S') }, s.advertFor(K.N1), 0);
  t.is(s.get(K.X)?.hops, 2);
  // S tells N1 that X is at INFINITY through S, so when N1 loses X it cannot pick S.
  t.is(s.advertFor(K.N1).find((e) => e.key === K.X)?.hops, INFINITY);
  n1.neighborLost(K.X, 1000);
  n1.receive(K.S, { roles: [], ip: ipOf('S') }, s.advertFor(K.N1), 1000);
  t.is(n1.get(K.X), undefined, 'N1 did not take a route to X back through S');
  s.receive(K.N1, { roles: [], ip: ipOf('N1') }, n1.advertFor(K.S), 1000);
  t.is(s.get(K.X), undefined, 'S learned from its next hop that X is gone');
});

test('RoutingTable: in a ring that loses a link, tables converge to the other way round without a loop', (t) => {
  // Ring A — B — C — D — A, all tables start empty. Exchange adverts in rounds until nothing changes.
  const ring = ['N1', 'N2', 'N3', 'D'] as const;
  const tables = new Map<string, RoutingTable>(ring.map((n) => [n, new RoutingTable(K[n])]));
  const tab = (n: string): RoutingTable => tables.get(n)!;
  let links: [Name, Name][] = [
    ['N1', 'N2'],
    ['N2', 'N3'],
    ['N3', 'D'],
    ['D', 'N1'],
  ];
  let now = 0;
  const round = (): boolean => {
    let changed = false;
    now += 1000;
    for (const [a, b] of links) {
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        changed = tab(to).receive(K[from], { roles: [], ip: ipOf(from) }, tab(from).advertFor(K[to]), now) || changed;
      }
    }
    return changed;
  };
  let rounds = 0;
  while (round()) if (++rounds > 40) break;
  t.is(tab('N1').get(K.N3)?.hops, 2);
  const firstVia = nameOf(tab('N1').get(K.N3)!.via) as Name;
  t.true(firstVia === 'N2' || firstVia === 'D');

  // Cut N1's link towards its current next hop for N3.
  links = links.filter(([a, b]) => !((a === 'N1' && b === firstVia) || (b === 'N1' && a === firstVia)));
  tab('N1').neighborLost(K[firstVia], now);
  tab(firstVia).neighborLost(K.N1, now);
  rounds = 0;
  while (round()) if (++rounds > 40) break;
  t.true(rounds <= 40, 'converged');
  const other = firstVia === 'N2' ? 'D' : 'N2';
  t.like(tab('N1').get(K.N3), { via: K[other], hops: 2 }, 'N1 reaches N3 the other way');
  t.like(tab(firstVia).get(K.N1), { hops: 3 }, 'the cut neighbour reaches N1 the long way');
  // No loop: following next hops from any node to any destination reaches it.
  for (const src of ring) {
    for (const dst of ring) {
      if (src === dst) continue;
      const path = [src as string];
      let at: string = src;
      while (at !== dst && path.length <= ring.length) {
        at = nameOf(tab(at).get(K[dst])!.via);
        path.push(at);
      }
      t.is(at, dst, `${src} → ${dst}: ${path.join(' → ')}`);
    }
  }
});

// ── Advertisements ──────────────────────────────────────────────────────────

const hexKey = (i: number): string => createHash('sha256').update(`route ${i}`).digest('hex');

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
    const doc = JSON.parse(msgs[0]!.toString('utf8')) as Record<string, unknown>;
    t.is(doc.v, ADVERT_VERSION);
  });
}

test('encodeAdverts: a route at INFINITY (poison) is carried as 16', (t) => {
  const [m] = encodeAdverts({ roles: [], ip: '10.77.0.1', routes: [{ key: hexKey(1), hops: INFINITY, roles: [], ip: '10.77.0.2' }] });
  t.deepEqual(decodeAdvert(m!)?.routes, [{ key: hexKey(1), hops: INFINITY, roles: [], ip: '10.77.0.2' }]);
});

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

for (const [what, entry] of skipped) {
  test(`decodeAdvert skips a bad route entry (${what}) and keeps the good ones`, (t) => {
    const d = decodeAdvert(doc({ routes: [GOOD_ROUTE, entry, { ...GOOD_ROUTE, k: hexKey(8) }] }));
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

// ── Discovery announcements ─────────────────────────────────────────────────

const PUB = createHash('sha256').update('announce key').digest();
const PUB_HEX = PUB.toString('hex');
const PUB2_HEX = createHash('sha256').update('announce key 2').digest('hex');

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

const SELF_KEY = createHash('sha256').update('discovery self').digest('hex');

function discovery(now: { t: number }): { d: Discovery; heard: DiscoveredNode[] } {
  const transport: DiscoveryTransport = { open: async () => undefined, broadcast: () => undefined, close: () => undefined };
  const heard: DiscoveredNode[] = [];
  const d = new Discovery({
    transport,
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
  for (const [, buf] of badAnnouncements) d.receive(buf, { address: '198.18.5.9' });
  const expected = {
    malformed: badAnnouncements.filter(([, , r]) => r === 'malformed').length,
    spoofed: badAnnouncements.filter(([, , r]) => r === 'spoofed').length,
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
  t.deepEqual(d.dropped, { malformed: 0, spoofed: 0 });
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

test('Discovery.receive: holds at most 256 nodes, evicting the one heard longest ago', (t) => {
  const now = { t: 0 };
  const { d } = discovery(now);
  const keys = Array.from({ length: 257 }, (_, i) => createHash('sha256').update(`node ${i}`).digest('hex'));
  keys.forEach((k, i) => {
    now.t = i;
    d.receive(encodeAnnouncement({ publicKey: k, port: 9100, name: `n${i}`, roles: [] }), { address: '198.18.5.2' });
  });
  const listed = new Set(d.list().map((n) => n.publicKey));
  t.is(listed.size, 256);
  t.false(listed.has(keys[0]!), 'the oldest was evicted');
  t.true(listed.has(keys[256]!));
});
