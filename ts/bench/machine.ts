// The machine and software a result was measured on, for the report.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import type { Built } from './build.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  versions: Record<string, string>;
  /** The pim checkout measured: `git describe`, with -dirty for uncommitted changes. */
  pimCommit: string;
}

function firstLine(cmd: string, args: string[], pattern?: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status === null) return 'not installed';
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const line = pattern ? lines.find((l) => pattern.test(l)) : lines[0];
  return line ?? 'unknown';
}

export function cpuModel(cpuinfo: string): string {
  return cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpuinfo.match(/^(?:Hardware|Processor|cpu model)\s*:\s*(.+)$/m)?.[1]?.trim() ?? 'unknown';
}

export function describeMachine(repoRoot: string, built: readonly Built[]): MachineInfo {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux?
  }
  return {
    cpuModel: cpuModel(cpuinfo),
    cores: cpus().length,
    kernel: release(),
    versions: {
      node: process.version,
      rustc: firstLine('rustc', ['--version']),
      iperf3: firstLine('iperf3', ['--version']),
      'wireguard-go (Debian)': firstLine('wireguard-go', ['--version']),
      nebula: firstLine('nebula', ['-version'], /version/i),
      ...Object.fromEntries(built.map((b) => [b.system, b.binary ? `${b.version} (built from source)` : 'not built'])),
    },
    pimCommit: firstLine('git', ['-C', repoRoot, 'describe', '--always', '--dirty']),
  };
}
