// The benchmark's command line: flags, with environment variables as the
// defaults (BENCH_RUNS or RUNS, BENCH_SECONDS, BENCH_ONLY, BENCH_OUT).

import { parseSystemName, SYSTEM_IDS, type SystemId } from './metrics.js';

export interface BenchOptions {
  runs: number;
  seconds: number;
  /** In round-robin order. */
  systems: SystemId[];
  /** undefined = bench/results of the checkout. */
  out: string | undefined;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--runs N] [--seconds S] [--only raw,pim,wgc,wg,bt,nebula] [--out DIR]

  --runs N      rounds over all systems (default 5; env BENCH_RUNS or RUNS)
  --seconds S   seconds per workload, whole (default 10; env BENCH_SECONDS)
  --only LIST   systems to measure: raw, pim, wireguard-go-current (wgc), wireguard-go
                (wg, Debian's), boringtun (bt), nebula (default all; env BENCH_ONLY)
  --out DIR     where <date>.md, .json and .png go (default bench/results; env BENCH_OUT)

Root only: it creates network namespaces. Installs iperf3, ethtool,
wireguard-tools, wireguard-go and nebula with apt-get when they are missing;
builds current wireguard-go (go install) and boringtun-cli (cargo install) at
pinned versions once into PIM_BENCH_CACHE (default ~/.cache/pim-bench).

The flood workload (pim alone, a handshake flood against a live tunnel; about
2.5 minutes): npm run bench:flood (builds, then node dist/ts/bench/flood.js).
It writes bench/results/<date>-flood.md and .json.`;

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

export function parseSystems(list: string): SystemId[] {
  const wanted = new Set<SystemId>();
  for (const name of list.split(',').filter((s) => s.trim() !== '')) {
    const id = parseSystemName(name);
    if (!id) throw new Error(`unknown system ${JSON.stringify(name.trim())}: choose from ${SYSTEM_IDS.join(', ')} (or wg)`);
    wanted.add(id);
  }
  if (wanted.size === 0) throw new Error('--only needs at least one system');
  return SYSTEM_IDS.filter((s) => wanted.has(s));
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): BenchOptions {
  const values: Record<string, string | undefined> = {
    runs: env.BENCH_RUNS ?? env.RUNS,
    seconds: env.BENCH_SECONDS,
    only: env.BENCH_ONLY,
    out: env.BENCH_OUT,
  };
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    const m = arg.match(/^--(runs|seconds|only|out)(?:=(.*))?$/);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    }
    values[m[1]] = value;
  }
  return {
    runs: values.runs === undefined ? 5 : integer('--runs', values.runs, 1, 100),
    seconds: values.seconds === undefined ? 10 : integer('--seconds', values.seconds, 1, 600),
    systems: values.only === undefined ? [...SYSTEM_IDS] : parseSystems(values.only),
    out: values.out === undefined || values.out === '' ? undefined : values.out,
    help,
  };
}
