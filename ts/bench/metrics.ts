// What the benchmark measures: one entry per metric, in report order. Which
// systems a metric applies to decides where the report says "n/a" instead of
// a number (the raw veth has no daemon, only pim has a Node event loop).

// wireguard-go-current and boringtun are built from pinned versions (build.ts);
// wireguard-go is Debian's package, older than wireguard-go's offloads.
export const SYSTEM_IDS = ['raw', 'pim', 'wireguard-go-current', 'wireguard-go', 'boringtun', 'nebula'] as const;
export type SystemId = (typeof SYSTEM_IDS)[number];

export const SYSTEM_LABELS: Record<SystemId, string> = {
  raw: 'raw veth',
  pim: 'pim',
  'wireguard-go-current': 'wireguard-go (current)',
  'wireguard-go': 'wireguard-go (Debian)',
  boringtun: 'boringtun',
  nebula: 'nebula',
};

/** all = every system; daemons = the VPNs (not the raw veth); pim = pim only. */
export type Applies = 'all' | 'daemons' | 'pim';

export interface MetricDef {
  id: string;
  label: string;
  unit: string;
  /** Which way is better, for reading the ratios. */
  better: 'higher' | 'lower';
  applies: Applies;
}

/** The multi-peer workload: one node sending to this many peers at once. */
export const PEER_COUNT = 8;

export const METRICS: readonly MetricDef[] = [
  { id: 'tcp1_ab_mbps', label: 'TCP 1 stream A→B', unit: 'Mbit/s', better: 'higher', applies: 'all' },
  { id: 'tcp1_ba_mbps', label: 'TCP 1 stream B→A', unit: 'Mbit/s', better: 'higher', applies: 'all' },
  { id: 'tcp4_ab_mbps', label: 'TCP 4 streams A→B', unit: 'Mbit/s', better: 'higher', applies: 'all' },
  { id: 'tcp4_ba_mbps', label: 'TCP 4 streams B→A', unit: 'Mbit/s', better: 'higher', applies: 'all' },
  { id: 'tcp_peers_mbps', label: `TCP from A to ${PEER_COUNT} peers at once (1 stream each, sum)`, unit: 'Mbit/s', better: 'higher', applies: 'all' },
  { id: 'udp_kpps', label: 'UDP 1372 B delivered at < 1 % loss', unit: 'kpackets/s', better: 'higher', applies: 'all' },
  { id: 'rtt_idle_ms', label: 'RTT idle (median)', unit: 'ms', better: 'lower', applies: 'all' },
  { id: 'rtt_load_ms', label: 'RTT under TCP load (median)', unit: 'ms', better: 'lower', applies: 'all' },
  { id: 'cpu_s_per_gbit', label: 'daemon CPU per gigabit (TCP 1 stream A→B)', unit: 'CPU s/Gbit', better: 'lower', applies: 'daemons' },
  { id: 'peak_rss_mib', label: 'daemon peak RSS (VmHWM, max of the two)', unit: 'MiB', better: 'lower', applies: 'daemons' },
  { id: 'event_loop_p99_ms', label: 'Node event-loop delay p99 during TCP run', unit: 'ms', better: 'lower', applies: 'pim' },
];

export type MetricId = string;

export function applies(metric: MetricDef, system: SystemId): boolean {
  switch (metric.applies) {
    case 'all':
      return true;
    case 'daemons':
      return system !== 'raw';
    case 'pim':
      return system === 'pim';
  }
}

/** The ratios the report shows, numerator / denominator, from the medians of one invocation. */
export const RATIO_PAIRS: ReadonlyArray<readonly [SystemId, SystemId]> = [
  ['pim', 'wireguard-go-current'],
  ['pim', 'wireguard-go'],
  ['pim', 'boringtun'],
  ['pim', 'nebula'],
  ['pim', 'raw'],
  ['wireguard-go-current', 'raw'],
];

/** Accepts the ids and the short names people type: wg, wgc, bt, neb, veth. */
export function parseSystemName(name: string): SystemId | undefined {
  const n = name.trim().toLowerCase();
  const aliases: Record<string, SystemId> = {
    wg: 'wireguard-go',
    wireguard: 'wireguard-go',
    wgc: 'wireguard-go-current',
    'wg-current': 'wireguard-go-current',
    bt: 'boringtun',
    neb: 'nebula',
    veth: 'raw',
  };
  if ((SYSTEM_IDS as readonly string[]).includes(n)) return n as SystemId;
  return aliases[n];
}
