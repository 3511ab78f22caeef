// The control plane's bounds against a neighbour that says too much
// (docs/PROTOCOL.md §5.7), no root needed: routes per neighbour and in
// total, counted when refused and freed again when routes go; and a burst
// of changes costs one recompile.

import test from 'ava';
import { GC_MS, MAX_ROUTES, MAX_ROUTES_PER_NEIGHBOR, ROUTE_TTL_MS, RoutingTable, type AdvertEntry } from '../ts/routing/distance-vector.js';
import { PolicyApplier } from '../ts/daemon/policy.js';
import { seededKey } from './helpers/keys.js';

const SELF = seededKey('bounds self');
const neighbour = (n: number): string => seededKey(`bounds neighbour ${n}`);
const own = { roles: [], ip: '10.77.0.2' };

/** `count` distinct destinations, named by `tag`, at one hop from the sender. */
const dests = (tag: string, count: number): AdvertEntry[] =>
  Array.from({ length: count }, (_, i) => ({ key: seededKey(`${tag} ${i}`), hops: 1, roles: [], ip: `10.77.${(i >> 8) + 10}.${(i & 255) + 1}` }));

const via = (table: RoutingTable, n: string): number => table.reachable().filter((r) => r.via === n).length;

test('RoutingTable: one neighbour holds at most MAX_ROUTES_PER_NEIGHBOR destinations (itself included); the rest are refused and counted', (t) => {
  const table = new RoutingTable(SELF);
  const n = neighbour(1);
  const entries = dests('one', MAX_ROUTES_PER_NEIGHBOR + 10);
  table.receive(n, own, entries, 0);
  t.is(MAX_ROUTES_PER_NEIGHBOR, 256);
  t.is(via(table, n), MAX_ROUTES_PER_NEIGHBOR);
  t.is(table.refused, entries.length - (MAX_ROUTES_PER_NEIGHBOR - 1));
  // At the bound, destinations it already gave are still updated.
  const known = entries[0]!;
  table.receive(n, own, [{ ...known, hops: 3 }], 1);
  t.is(table.get(known.key)?.hops, 4);
  // Another neighbour has its own share.
  table.receive(neighbour(2), own, dests('two', 5), 2);
  t.is(via(table, neighbour(2)), 6);
});

test('RoutingTable: the whole table holds at most MAX_ROUTES destinations, but a neighbour itself always has its route', (t) => {
  const table = new RoutingTable(SELF);
  const per = MAX_ROUTES_PER_NEIGHBOR - 1;
  for (let i = 0; i < MAX_ROUTES / MAX_ROUTES_PER_NEIGHBOR; i++) table.receive(neighbour(i), own, dests(`n${i}`, per), 0);
  t.is(MAX_ROUTES, 1024);
  t.is(table.size, MAX_ROUTES);
  t.is(table.refused, 0);
  const late = neighbour(99);
  table.receive(late, own, dests('late', 3), 0);
  t.truthy(table.get(late), 'the neighbour itself');
  t.is(via(table, late), 1, 'nothing through it');
  t.is(table.refused, 3);
});

test('RoutingTable: routes that expire and are forgotten give their room back', (t) => {
  const table = new RoutingTable(SELF);
  const n = neighbour(1);
  table.receive(n, own, dests('first', MAX_ROUTES_PER_NEIGHBOR - 1), 0);
  table.expire(ROUTE_TTL_MS);
  table.expire(ROUTE_TTL_MS + GC_MS);
  t.is(table.size, 0);
  table.receive(n, own, dests('second', MAX_ROUTES_PER_NEIGHBOR - 1), ROUTE_TTL_MS + GC_MS + 1);
  t.is(via(table, n), MAX_ROUTES_PER_NEIGHBOR);
  t.is(table.refused, 0);
});

test('PolicyApplier.refresh: a burst of changes while one refresh waits costs one compile and one apply', async (t) => {
  let compiles = 0;
  let applies = 0;
  const policy = new PolicyApplier(
    {
      config: { current: {} } as never,
      compile: () => (compiles++, { snapshot: {} as never, problems: [] }),
      engine: { applySnapshot: () => void applies++ },
      log: { error: () => undefined } as never,
    },
    new Map(),
  );
  for (let i = 0; i < 100; i++) policy.refresh();
  await policy.apply(() => undefined);
  t.is(compiles, 2, 'the burst compiled once, and the apply after it once');
  t.is(applies, 2);
  policy.refresh();
  await policy.apply(() => undefined);
  t.is(compiles, 4, 'a refresh after the queued one ran is not lost');
});
