// SIGHUP and applied config saves: read and validate the file again, make
// the new config the running one once the engine accepted its snapshot,
// keep the running values of what needs a restart, and keep the whole old
// config if the new one is invalid or refused.

import { changedPaths, keepRestartOnly, requiringRestart } from '../config/diff.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ConfigState } from './config-state.js';
import type { PolicyApplier } from './policy.js';
import { resolveEndpoints } from './resolve.js';

export interface ReloadResult {
  applied: boolean;
  requiresRestart: string[];
  error?: string;
}

export interface ReloadDeps {
  state: ConfigState;
  policy: Pick<PolicyApplier, 'applyConfig'>;
  /** Turns routing via the mesh and the gateway role on or off to match the new config. */
  applyRoles(previous: Config, next: Config): Promise<void>;
  log: Logger;
}

export async function reloadConfig(d: ReloadDeps): Promise<ReloadResult> {
  const refuse = (err: unknown): ReloadResult => {
    const error = describeError(err);
    d.log.error({ event: 'reload_failed', reason: error }, `reload refused, keeping the running config: ${error}`);
    return { applied: false, requiresRestart: [], error };
  };
  let next: Config;
  try {
    next = (await loadConfig(d.state.path, d.state.pathEnv)).config;
  } catch (err) {
    return refuse(err);
  }
  const previous = d.state.current;
  const changed = changedPaths(previous, next);
  const requiresRestart = requiringRestart(changed);
  const running = keepRestartOnly(previous, next);
  try {
    // Names are resolved here, once per reload, so recompiles stay pure.
    const { endpoints, failures } = await resolveEndpoints(running.peers);
    for (const f of failures) {
      d.log.warn({ event: 'peer_unresolved', address: f.address }, `cannot resolve static peer ${f.address}: ${f.message}; waiting for it to dial in`);
    }
    await d.policy.applyConfig(running, endpoints);
  } catch (err) {
    return refuse(err);
  }
  d.log.level = running.log.level;
  await d.applyRoles(previous, running).catch((err: unknown) =>
    d.log.error({ event: 'reload_failed', reason: describeError(err) }, `routing or gateway change not applied: ${describeError(err)}`),
  );
  if (running.trust.mode === 'allow_all' && previous.trust.mode !== 'allow_all') {
    d.log.warn({ event: 'trust_allow_all' }, 'trust mode allow_all: every peer is trusted; use this only on closed networks');
  }
  const restart = requiresRestart.length ? `, ${requiresRestart.join(', ')} need a restart` : '';
  d.log.info({ event: 'reloaded', changed, requires_restart: requiresRestart }, `config reloaded (${changed.length} changes${restart})`);
  return { applied: true, requiresRestart };
}
