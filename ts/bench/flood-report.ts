// The flood workload's parameters, its bounds, and its report
// (bench/results/<date>-flood.md); see flood.ts.

import type { MachineInfo } from './machine.js';

/** What the attacker does in each phase (issue 12's numbers). */
export const FLOOD = {
  phases: ['junk', 'mac1', 'valid', 'cookie'] as const,
  rate: 30_000,
  seconds: 20,
  ports: 64,
  identities: 2000,
  /** The cookie phase's source addresses, one per port; the others use F's own. */
  cookieSources: 64,
};

/** The counters that say how A's handshake defences worked (docs/PROTOCOL.md §4.10–4.11). */
export const DEFENCE_COUNTERS = ['cookie_replies_sent', 'handshake_responses_sent', 'half_open_evicted', 'half_open_expired', 'peers_collected'] as const;

/** What each phase must show. */
export const BOUNDS = { pingLossPct: 5, rehandshakeS: 5, freshPairS: 5 };

export interface PhaseResult {
  phase: (typeof FLOOD.phases)[number];
  pingLossPct?: number;
  rehandshakeS?: number;
  freshPairS?: number;
  /** A's daemon over the flood: CPU (100 = one core) and its largest RSS. */
  cpuPct?: number;
  rssMaxMiB?: number;
  /** pim-flood's own account of what it sent. */
  floodSent?: string;
  /** What A dropped over the phase, by reason (status.stats.drops, the changed ones). */
  aDrops?: Record<string, number>;
  /** A's handshake-defence counters over the phase (status.stats.counters, DEFENCE_COUNTERS that changed). */
  aDefences?: Record<string, number>;
  errors: string[];
}

export interface Verdict {
  ok: boolean;
  missed: string[];
}

export interface FloodResult {
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverage: { start: number[]; end: number[] };
  flood: typeof FLOOD;
  phases: (PhaseResult & { verdict: Verdict })[];
}

export function judge(p: PhaseResult): Verdict {
  const missed: string[] = [...p.errors];
  const over = (v: number | undefined, bound: number, what: string): void => {
    if (v === undefined) missed.push(`${what}: not measured`);
    else if (v >= bound) missed.push(`${what} ${v} ≥ ${bound}`);
  };
  over(p.pingLossPct, BOUNDS.pingLossPct, 'ping loss %');
  over(p.rehandshakeS, BOUNDS.rehandshakeS, "B's restart to new session s");
  over(p.freshPairS, BOUNDS.freshPairS, 'fresh node pairing s');
  return { ok: missed.length === 0, missed };
}

const fmt = (v: number | undefined, digits = 1): string => (v === undefined ? '–' : v.toFixed(digits));
const counts = (c: Record<string, number> | undefined): string =>
  Object.entries(c ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');

export function renderFlood(r: FloodResult): string {
  const f = r.flood;
  const rows = r.phases.map(
    (p) =>
      `| ${p.phase} | ${fmt(p.pingLossPct)} | ${fmt(p.rehandshakeS, 2)} | ${fmt(p.freshPairS, 2)} | ${fmt(p.cpuPct, 0)} | ${fmt(p.rssMaxMiB)} | ${p.floodSent ?? '–'} | ${counts(p.aDrops)} | ${counts(p.aDefences)} | ${p.verdict.ok ? 'met' : `**missed**: ${p.verdict.missed.join('; ')}`} |`,
  );
  return [
    `# pim under a handshake flood, ${r.date}`,
    '',
    `A and B: pim with each other as static peers. F floods A for ${f.seconds} s from ${f.ports} source ports at ${f.rate} datagrams/s`,
    `(pim-flood): \`junk\` random bytes; \`mac1\` initiations with random crypto and a valid mac1; \`valid\` complete`,
    `initiations from ${f.identities} fresh identities; \`cookie\` the same from ${f.cookieSources} source addresses (one per port),`,
    `answering A's cookie replies (mac2 on every initiation while the socket's cookie is usable). The other phases`,
    `come from F's one address. Per phase: a ping A→B through the tunnel (100 at 10/s) under the`,
    `flood; B restarted under the flood (from its start to its new session with A); after the flood, a node A never`,
    `heard of pairing with it (TOFU). Bounds: ping loss < ${BOUNDS.pingLossPct} %, B's new session and the fresh node's`,
    `pairing < ${BOUNDS.rehandshakeS} s. CPU: A's daemon over the flood (100 = one core).`,
    '',
    "| phase | ping loss % | B restarted → new session s | fresh node pairs s | A CPU % | A RSS max MiB | flood sent | A's drops | A's defences | bounds |",
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, Linux ${r.machine.kernel}; pim ${r.machine.pimCommit}.`,
    `Load average (1, 5, 15 min) at start ${load(r.loadAverage.start)}, at end ${load(r.loadAverage.end)}.`,
    `Started ${r.startedAt}, finished ${r.finishedAt}.`,
    '',
  ].join('\n');
}
