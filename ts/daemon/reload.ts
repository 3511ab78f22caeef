// SIGHUP and applied config saves: read and validate the file again, swap in
// what can change live (peers, trust, labels, log level, routing, gateway),
// keep the running values of what needs a restart, and keep the whole old
// config if the new one is invalid.

import { changedPaths, requiringRestart } from '../config/diff.js';
import { loadConfig } from '../config/load.js';
import type { PathEnv } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Daemon } from './daemon.js';

export interface ReloadResult {
  applied: boolean;
  requiresRestart: string[];
  error?: string;
}

/** Sections whose running values stay until a restart (see config/diff.ts). */
const RESTART_SECTIONS = ['security', 'interface', 'transport', 'rpc', 'discovery'] as const;

export async function reloadConfig(d: Daemon, pathEnv: PathEnv): Promise<ReloadResult> {
  const refuse = (err: unknown): ReloadResult => {
    const error = describeError(err);
    d.logger.error({ event: 'reload_failed', reason: error }, `reload refused, keeping the running config: ${error}`);
    return { applied: false, requiresRestart: [], error };
  };
  let next: Config;
  try {
    next = (await loadConfig(d.configPath, pathEnv)).config;
  } catch (err) {
    return refuse(err);
  }
  const previous = d.currentConfig;
  const changed = changedPaths(previous, next);
  const requiresRestart = requiringRestart(changed);
  const running = { ...next, ...Object.fromEntries(RESTART_SECTIONS.map((s) => [s, previous[s]])) } as Config;
  running.trust = { ...next.trust, store: previous.trust.store }; // the open store stays until a restart
  try {
    await d.replaceConfig(running);
  } catch (err) {
    return refuse(err);
  }
  d.logger.level = running.log.level;
  await applyRoles(d, previous, running).catch((err: unknown) =>
    d.logger.error({ event: 'reload_failed', reason: describeError(err) }, `routing or gateway change not applied: ${describeError(err)}`),
  );
  if (running.trust.mode === 'allow_all' && previous.trust.mode !== 'allow_all') {
    d.logger.warn({ event: 'trust_allow_all' }, 'trust mode allow_all: every peer is trusted; use this only on closed networks');
  }
  const restart = requiresRestart.length ? `, ${requiresRestart.join(', ')} need a restart` : '';
  d.logger.info({ event: 'reloaded', changed, requires_restart: requiresRestart }, `config reloaded (${changed.length} changes${restart})`);
  return { applied: true, requiresRestart };
}

/** A reloaded config turned routing via the mesh or the gateway role on or off. */
async function applyRoles(d: Daemon, previous: Config, next: Config): Promise<void> {
  const { route, gateway } = next;
  if (route.internet_via_mesh !== previous.route.internet_via_mesh) await d.routing.apply(route.internet_via_mesh);
  if (gateway.enabled !== previous.gateway.enabled || gateway.nat_interface !== previous.gateway.nat_interface) {
    if (gateway.enabled) await d.gateway.enable(gateway.nat_interface, false);
    else await d.gateway.disable(false);
  }
}
