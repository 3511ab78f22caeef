// CPU time and memory of the VPN daemons, read from /proc. The daemons run in
// other network namespaces but the same PID namespace, so /proc/<pid> is
// theirs. /proc/<pid>/stat's utime and stime cover every thread of the
// process; a daemon's child processes are found by walking parent pids.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime/stime (100 on every Linux seen in practice). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number.parseInt(out.stdout ?? '', 10);
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

export interface StatFields {
  ppid: number;
  utime: number;
  stime: number;
}

/** Parses one /proc/<pid>/stat line. The command name may hold spaces and parentheses: fields start after the last ')'. */
export function parseStat(line: string): StatFields | undefined {
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = line.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) return undefined;
  return { ppid, utime, stime };
}

function readStat(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

/** The given pids and all their living descendants. */
export function withDescendants(pids: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const out = new Set<number>();
  const queue = [...pids];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    if (out.has(pid)) continue;
    out.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...out];
}

/** CPU seconds (user + system) used so far by each pid, keyed by pid. */
export function cpuSeconds(pids: readonly number[]): Map<number, number> {
  const hz = clockTicks();
  const out = new Map<number, number>();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) out.set(pid, (stat.utime + stat.stime) / hz);
  }
  return out;
}

/** CPU seconds spent between two cpuSeconds() readings, summed over the pids present in both. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, end] of after) total += end - (before.get(pid) ?? end);
  return total;
}

/** A `Vm*:` line of /proc/<pid>/status in MiB, e.g. VmHWM (peak RSS) or VmRSS. */
export function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = parseStatusKiB(text, field);
  return kib === undefined ? undefined : kib / 1024;
}

export function parseStatusKiB(text: string, field: string): number | undefined {
  const m = text.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'));
  return m ? Number(m[1]) : undefined;
}
