import * as os from 'node:os';
import * as path from 'node:path';

// Where pim keeps its files when the config does not say. The process
// environment is passed in rather than read here so that tests (and `pim`
// acting for another user) can ask "what would the defaults be for X?".

export interface PathEnv {
  uid: number;
  env: NodeJS.ProcessEnv;
  homedir: string;
}

export function currentPathEnv(): PathEnv {
  // process.getuid is absent only on Windows, which pim does not run on;
  // -1 keeps such a caller on the non-root (per-user) paths.
  return { uid: process.getuid?.() ?? -1, env: process.env, homedir: os.homedir() };
}

export function dataDir(pe: PathEnv): string {
  if (pe.uid === 0) return '/var/lib/pim';
  return path.join(xdgDir(pe, 'XDG_DATA_HOME') ?? path.join(pe.homedir, '.local/share'), 'pim');
}

/** The config file when no `-c FILE` was given. */
export function defaultConfigPath(pe: PathEnv): string {
  const explicit = nonEmpty(pe.env['PIM_CONFIG']);
  if (explicit !== undefined) return explicit;
  if (pe.uid === 0) return '/etc/pim/pim.toml';
  return path.join(xdgDir(pe, 'XDG_CONFIG_HOME') ?? path.join(pe.homedir, '.config'), 'pim', 'pim.toml');
}

/**
 * The control socket when the config leaves `rpc.socket` empty. Root always
 * uses /run/pim: an inherited XDG_RUNTIME_DIR (sudo keeps it) names a
 * directory another user owns, where root must not create files.
 */
export function defaultSocketPath(pe: PathEnv): string {
  const explicit = nonEmpty(pe.env['PIM_RPC_SOCKET']);
  if (explicit !== undefined) return explicit;
  if (pe.uid === 0) return '/run/pim/pim.sock';
  const runtime = xdgDir(pe, 'XDG_RUNTIME_DIR');
  return runtime === undefined ? '/run/pim/pim.sock' : path.join(runtime, 'pim.sock');
}

// The XDG base-directory spec says an empty or relative value is to be
// ignored, so a stray `XDG_DATA_HOME=` never puts files in the working directory.
function xdgDir(pe: PathEnv, name: string): string | undefined {
  const value = nonEmpty(pe.env[name]);
  return value !== undefined && path.isAbsolute(value) ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
