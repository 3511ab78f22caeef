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

/** Settings the running daemon cannot change: they shape the interface, socket, identity or trust store. */
const RESTART_PREFIXES = ['security.', 'interface.', 'transport.', 'rpc.', 'discovery.'];
const RESTART_KEYS = ['trust.store'];

export function requiringRestart(paths: readonly string[]): string[] {
  return paths.filter((p) => RESTART_KEYS.includes(p) || RESTART_PREFIXES.some((prefix) => p.startsWith(prefix)));
}
