// The programs the benchmark drives, installed with apt-get when missing. The
// harness says what it installs. Without iperf3 or ping nothing can be
// measured; without wg, wireguard-go or nebula those systems are left out of
// the run and the report names them as missing; without ethtool the report
// cannot say which offloads each tunnel had. (Current wireguard-go and
// boringtun are built from source: build.ts.)

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SystemId } from './metrics.js';

interface Tool {
  command: string;
  pkg: string;
  /** The systems that need it; undefined = every system (the workloads). */
  systems?: readonly SystemId[];
  /** Only for the report: never a reason to leave anything out. */
  optional?: true;
}

const WIREGUARD: readonly SystemId[] = ['wireguard-go', 'wireguard-go-current', 'boringtun'];

export const TOOLS: readonly Tool[] = [
  { command: 'iperf3', pkg: 'iperf3' },
  { command: 'ping', pkg: 'iputils-ping' },
  { command: 'ethtool', pkg: 'ethtool', optional: true },
  { command: 'wg', pkg: 'wireguard-tools', systems: WIREGUARD },
  { command: 'wireguard-go', pkg: 'wireguard-go', systems: ['wireguard-go'] },
  { command: 'nebula', pkg: 'nebula', systems: ['nebula'] },
  { command: 'nebula-cert', pkg: 'nebula', systems: ['nebula'] },
];

/** The apt packages every part of the benchmark may need (for CI's install step). */
export const APT_PACKAGES = [...new Set(TOOLS.map((t) => t.pkg))];

export function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export interface ToolCheck {
  /** Systems that can run. */
  systems: SystemId[];
  /** Systems left out, with why. */
  missing: Array<{ system: SystemId; reason: string }>;
  /** Packages this invocation installed. */
  installed: string[];
}

function needed(systems: readonly SystemId[]): Tool[] {
  return TOOLS.filter((t) => t.systems === undefined || t.systems.some((s) => systems.includes(s)));
}

function aptGet(args: string[], log: (line: string) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdout.resume();
    child.on('error', () => resolve(false));
    child.on('close', (code) => {
      if (code !== 0) log(`apt-get ${args.join(' ')} failed (code ${code}): ${Buffer.concat(err).toString('utf8').trim().slice(-500)}`);
      resolve(code === 0);
    });
  });
}

/** Installs what the selected systems lack; throws only when the workloads themselves cannot run. */
export async function ensureTools(systems: readonly SystemId[], log: (line: string) => void): Promise<ToolCheck> {
  const lacking = needed(systems).filter((t) => !onPath(t.command));
  const pkgs = [...new Set(lacking.map((t) => t.pkg))];
  const installed: string[] = [];
  if (pkgs.length > 0) {
    if (!onPath('apt-get')) {
      log(`missing ${lacking.map((t) => t.command).join(', ')} and there is no apt-get to install ${pkgs.join(' ')}`);
    } else {
      log(`installing with apt-get: ${pkgs.join(' ')}`);
      await aptGet(['update', '-qq'], log);
      // One package at a time, so one that the mirror lacks does not stop the others.
      for (const pkg of pkgs) {
        if (await aptGet(['install', '-y', '-qq', '--no-install-recommends', pkg], log)) installed.push(pkg);
      }
      log(installed.length > 0 ? `installed: ${installed.join(' ')}` : 'apt-get installed nothing');
    }
  }
  const stillLacking = needed(systems).filter((t) => !onPath(t.command));
  const fatal = stillLacking.filter((t) => t.systems === undefined && !t.optional);
  if (fatal.length > 0) {
    throw new Error(`cannot benchmark without ${fatal.map((t) => `${t.command} (apt-get install ${t.pkg})`).join(', ')}`);
  }
  const missing: ToolCheck['missing'] = [];
  for (const system of systems) {
    const absent = stillLacking.filter((t) => t.systems?.includes(system));
    if (absent.length > 0) {
      missing.push({ system, reason: `not installed: ${absent.map((t) => `${t.command} (package ${t.pkg})`).join(', ')}` });
    }
  }
  return { systems: systems.filter((s) => !missing.some((m) => m.system === s)), missing, installed };
}
