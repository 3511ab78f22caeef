// ts/routing/gateway-select.ts, no root needed: which advertised gateway a
// node routes the internet through — latency, then hops, then the smallest
// key; a reachable current gateway is kept; the answer never depends on the
// order the candidates are listed in.

import test from 'ava';
import { selectGateway, type GatewayCandidate } from '../ts/routing/gateway-select.js';

const KA = 'a'.repeat(64);
const KB = 'b'.repeat(64);
const KC = 'c'.repeat(64);
const KD = 'd'.repeat(64);

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
