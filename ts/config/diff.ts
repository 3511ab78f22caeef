// Which settings differ between two configs, as TOML paths; arrays (peers,
// allow_list) compare whole. Reload uses it to tell what needs a restart.

import { isDeepStrictEqual } from 'node:util';
import type { Config } from './schema.js';

export function changedPaths(a: Config, b: Config): string[] {
  const out: string[] = [];
  for (const section of Object.keys(a) as (keyof Config)[]) {
    const x = a[section];
    const y = b[section];
    if (Array.isArray(x)) {
      if (!isDeepStrictEqual(x, y)) out.push(section);
      continue;
    }
    for (const key of Object.keys(x)) {
      if (!isDeepStrictEqual((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key])) out.push(`${section}.${key}`);
    }
  }
  return out;
}

/**
 * Settings the running daemon cannot change (whole sections, or one key):
 * they shape the interface, the socket, the identity, discovery or the open
 * trust store. The one list: a reload keeps their running values, and
 * `config.save` reports them as needing a restart.
 */
const RESTART_ONLY = [['security'], ['interface'], ['transport'], ['rpc'], ['discovery'], ['trust', 'store']] as const;

const restartOnly = (path: string): boolean => RESTART_ONLY.some((r) => (r.length === 1 ? path.startsWith(`${r[0]}.`) : path === r.join('.')));

export function requiringRestart(paths: readonly string[]): string[] {
  return paths.filter(restartOnly);
}

/** `next` with the restart-only settings of `running`: what a reload can apply. */
export function keepRestartOnly(running: Config, next: Config): Config {
  let out: Config = next;
  for (const r of RESTART_ONLY) {
    if (r.length === 1) out = { ...out, [r[0]]: running[r[0]] };
    else out = { ...out, [r[0]]: { ...out[r[0]], [r[1]]: running[r[0]][r[1]] } };
  }
  return out;
}
