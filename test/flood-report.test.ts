// The flood benchmark's verdicts and report (ts/bench/flood-report.ts): the
// bounds each phase is judged by and the table every phase gets a row in.

import test from 'ava';
import { BOUNDS, FLOOD, judge, renderFlood, type FloodResult, type PhaseResult } from '../ts/bench/flood-report.js';

function phase(name: PhaseResult['phase'], over: Partial<PhaseResult> = {}): PhaseResult {
  return { phase: name, pingLossPct: 0, rehandshakeS: 1.2, freshPairS: 0.1, cpuPct: 40, rssMaxMiB: 64, errors: [], ...over };
}

function result(phases: PhaseResult[]): FloodResult {
  return {
    date: '2026-11-30',
    startedAt: '2026-11-30T15:00:00.000Z',
    finishedAt: '2026-11-30T15:02:30.000Z',
    machine: { cpuModel: 'Test CPU', cores: 2, kernel: '6.0', versions: {}, pimCommit: 'abc1234' },
    loadAverage: { start: [1, 1, 1], end: [0.5, 0.5, 0.5] },
    flood: FLOOD,
    phases: phases.map((p) => ({ ...p, verdict: judge(p) })),
  };
}

test('the cookie phase comes last, from as many source addresses as ports', (t) => {
  t.deepEqual(FLOOD.phases, ['junk', 'mac1', 'valid', 'cookie']);
  t.is(FLOOD.cookieSources, FLOOD.ports);
});

test('judge: a phase within every bound is met; one at a bound, unmeasured or with an error is missed', (t) => {
  t.deepEqual(judge(phase('cookie')), { ok: true, missed: [] });
  const atBound = judge(phase('cookie', { rehandshakeS: BOUNDS.rehandshakeS }));
  t.false(atBound.ok);
  t.deepEqual(atBound.missed, [`B's restart to new session s ${BOUNDS.rehandshakeS} ≥ ${BOUNDS.rehandshakeS}`]);
  t.deepEqual(judge(phase('valid', { pingLossPct: undefined })).missed, ['ping loss %: not measured']);
  t.deepEqual(judge(phase('junk', { errors: ['the fresh node: timed out'] })).missed, ['the fresh node: timed out']);
});

test("renderFlood: a row per phase with A's drops and defence counters as counted, and the cookie phase described", (t) => {
  const md = renderFlood(
    result([
      phase('valid', { aDrops: { needs_cookie: 599126 } }),
      phase('cookie', { aDrops: { rate_limited: 500000 }, aDefences: { half_open_evicted: 12 }, freshPairS: 6 }),
    ]),
  );
  t.regex(md, /\| valid \| 0\.0 \| 1\.20 \| 0\.10 \| 40 \| 64\.0 \| – \| needs_cookie 599126 \|  \| met \|/);
  t.regex(md, /\| cookie \| .* \| rate_limited 500000 \| half_open_evicted 12 \| \*\*missed\*\*: fresh node pairing s 6 ≥ 5 \|/);
  t.regex(md, /`cookie` the same from 64 source addresses/);
});
