// ts/routing/distance-vector.ts, no root needed: the routing table with an
// injected clock — what it learns from an advertisement, split horizon with
// poison reverse, expiry and garbage collection, how long an advertised role
// holds, and tables that converge without a loop.

import test from 'ava';
import type { Role } from '../ts/routing/adverts.js';
import { GC_MS, INFINITY, ROUTE_TTL_MS, RoutingTable, type AdvertEntry } from '../ts/routing/distance-vector.js';
import { ADVERT_INTERVAL_MS } from '../ts/daemon/mesh.js';
import { seededKey } from './helpers/keys.js';

// ── Keys and names ──────────────────────────────────────────────────────────

const NAMES = ['S', 'N1', 'N2', 'N3', 'D', 'E', 'F', 'X'] as const;
type Name = (typeof NAMES)[number];
/** A deterministic 64-hex "public key" per name (the table never checks keys are on the curve). */
const K = Object.fromEntries(NAMES.map((n) => [n, seededKey(`distance-vector ${n}`)])) as Record<Name, string>;
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

// ── How long an advertised role holds ───────────────────────────────────────

const isGateway = (table: RoutingTable, key: string): boolean => table.get(key)?.roles.includes('gateway') ?? false;

test('RoutingTable: a neighbour\'s gateway role holds for ROUTE_TTL_MS after its advert, then expires', (t) => {
  const table = new RoutingTable(K.S);
  const t0 = 1_000_000;
  t.true(table.receive(K.N1, { roles: ['gateway'], ip: ipOf('N1') }, [], t0), 'a new neighbour is a change');
  t.true(isGateway(table, K.N1));
  t.false(table.expire(t0 + ROUTE_TTL_MS - 1), 'nothing expires before the TTL');
  t.true(isGateway(table, K.N1));
  t.true(table.expire(t0 + ROUTE_TTL_MS), 'expiry at the TTL is a change');
  t.false(isGateway(table, K.N1));
  t.is(table.get(K.N1), undefined);
  t.deepEqual(table.reachable(), []);
  // Still advertised as unreachable for GC_MS (so neighbours learn), then forgotten.
  t.deepEqual(table.advertFor(K.X).map((e) => [e.key, e.hops]), [[K.N1, INFINITY]]);
  table.expire(t0 + ROUTE_TTL_MS + GC_MS);
  t.deepEqual(table.advertFor(K.X), []);
});

test('RoutingTable: a fresh advert restarts the TTL', (t) => {
  const table = new RoutingTable(K.S);
  const t0 = 5_000;
  table.receive(K.N1, { roles: ['gateway'], ip: ipOf('N1') }, [], t0);
  t.false(table.receive(K.N1, { roles: ['gateway'], ip: ipOf('N1') }, [], t0 + ADVERT_INTERVAL_MS), 'the same advert again is no change');
  table.expire(t0 + ROUTE_TTL_MS + 1);
  t.true(isGateway(table, K.N1), 'still a gateway: renewed one interval later');
  table.expire(t0 + ADVERT_INTERVAL_MS + ROUTE_TTL_MS);
  t.false(isGateway(table, K.N1));
});

test('RoutingTable: an advert without the role withdraws it at once', (t) => {
  const table = new RoutingTable(K.S);
  table.receive(K.N1, { roles: ['gateway'], ip: ipOf('N1') }, [], 0);
  t.true(table.receive(K.N1, { roles: [], ip: ipOf('N1') }, [], 1), 'withdrawing the role is a change');
  t.false(isGateway(table, K.N1));
  t.not(table.get(K.N1), undefined, 'the node itself stays reachable');
});

test('RoutingTable: a lost neighbour takes its role, and the gateways behind it, at once', (t) => {
  const table = new RoutingTable(K.S);
  table.receive(K.N1, { roles: [], ip: ipOf('N1') }, [at('D', 1, ['gateway'])], 0);
  t.true(isGateway(table, K.D), 'a gateway two hops away, via N1');
  t.is(table.get(K.D)?.via, K.N1);
  t.is(table.get(K.D)?.hops, 2);
  t.true(table.neighborLost(K.N1, 10));
  t.false(isGateway(table, K.D));
  t.is(table.get(K.N1), undefined);
});

test('RoutingTable: unknown nodes have no roles; the table never routes to itself', (t) => {
  const table = new RoutingTable(K.S);
  table.receive(K.N1, { roles: ['gateway'], ip: ipOf('N1') }, [at(SELF, 1, ['gateway'])], 0);
  t.false(isGateway(table, K.X));
  t.is(table.get(K.S), undefined, "a neighbour's route back to us is ignored");
});

test('ROUTE_TTL_MS outlasts a few missed advert rounds, and only a few', (t) => {
  // A single lost advert must not drop a gateway; a stopped one must go within a minute.
  t.true(ROUTE_TTL_MS > 2 * ADVERT_INTERVAL_MS, `TTL ${ROUTE_TTL_MS} ms > two intervals of ${ADVERT_INTERVAL_MS} ms`);
  t.true(ROUTE_TTL_MS <= 60_000);
});
