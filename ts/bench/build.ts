// The comparators that no distribution ships current: wireguard-go at a pinned
// module version (Go module proxy) and boringtun's CLI at a pinned crates.io
// version, built once into a cache directory outside the checkout and reused by
// every later run (a CI run on the same machine included). A build takes a
// minute or two; without go or cargo the system is left out and the report
// says why.

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { onPath } from './install.js';
import type { SystemId } from './metrics.js';

/** wireguard-go with TUN TSO/GRO and UDP GSO/GRO (the module's newest version when pinned). */
export const WIREGUARD_GO_MODULE = 'golang.zx2c4.com/wireguard';
export const WIREGUARD_GO_VERSION = 'v0.0.0-20260522210424-ecfc5a8d5446';
export const BORINGTUN_VERSION = '0.7.1';

/** PIM_BENCH_CACHE, else $XDG_CACHE_HOME/pim-bench, else ~/.cache/pim-bench. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIM_BENCH_CACHE) return env.PIM_BENCH_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pim-bench');
}

export interface Built {
  system: SystemId;
  /** The executable, or undefined with the reason it could not be built. */
  binary?: string;
  reason?: string;
  version: string;
  /** Whether this invocation built it (false: found in the cache). */
  built: boolean;
}

interface Recipe {
  system: SystemId;
  version: string;
  tool: string;
  /** Where the binary lands once built. */
  binary: (dir: string) => string;
  build: (dir: string) => { cmd: string; args: string[]; env: NodeJS.ProcessEnv };
}

const RECIPES: readonly Recipe[] = [
  {
    system: 'wireguard-go-current',
    version: WIREGUARD_GO_VERSION,
    tool: 'go',
    binary: (dir) => join(dir, 'wireguard'),
    build: (dir) => ({ cmd: 'go', args: ['install', `${WIREGUARD_GO_MODULE}@${WIREGUARD_GO_VERSION}`], env: { GOBIN: dir } }),
  },
  {
    system: 'boringtun',
    version: BORINGTUN_VERSION,
    tool: 'cargo',
    binary: (dir) => join(dir, 'bin', 'boringtun-cli'),
    build: (dir) => ({ cmd: 'cargo', args: ['install', 'boringtun-cli', '--version', BORINGTUN_VERSION, '--locked', '--root', dir], env: {} }),
  },
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runBuild(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code) => resolve(code === 0 ? undefined : `exit ${code}: ${Buffer.concat(out).toString('utf8').trim().slice(-400)}`));
  });
}

/**
 * The binaries of the selected built-from-source systems, building those the
 * cache lacks, side by side (a first run on a new machine then costs the
 * longer build, not both). Each version builds into its own directory, first
 * into a temporary one renamed into place, so an interrupted build is never
 * taken for a finished one.
 */
export async function ensureBuilt(systems: readonly SystemId[], log: (line: string) => void, cache = cacheDir()): Promise<Built[]> {
  return Promise.all(RECIPES.filter((x) => systems.includes(x.system)).map((r) => ensureOne(r, log, cache)));
}

async function ensureOne(r: Recipe, log: (line: string) => void, cache: string): Promise<Built> {
  const dir = join(cache, `${r.system}-${r.version}`);
  if (executable(r.binary(dir))) return { system: r.system, binary: r.binary(dir), version: r.version, built: false };
  if (!onPath(r.tool)) return { system: r.system, reason: `not built: no ${r.tool} on PATH to build ${r.version}`, version: r.version, built: false };
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`building ${r.system} ${r.version} into ${dir} (once; later runs reuse it)`);
  const { cmd, args, env } = r.build(tmp);
  const failed = await runBuild(cmd, args, env, tmp);
  if (failed !== undefined || !executable(r.binary(tmp))) {
    rmSync(tmp, { recursive: true, force: true });
    return { system: r.system, reason: `not built: ${cmd} ${args.join(' ')} failed (${failed ?? 'no binary'})`, version: r.version, built: false };
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { system: r.system, binary: r.binary(dir), version: r.version, built: true };
}
