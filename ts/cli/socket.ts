// Which control socket a config file points the CLI at. The CLI needs only
// that one setting, so a file with mistakes elsewhere (an unknown section, a
// syntax error) must not lock it out of the daemon that is running: it still
// takes `[rpc] socket` if it can read it, else the default, and says so.

import * as path from 'node:path';
import { defaultSocketPath, type PathEnv } from '../config/paths.js';
import { parse } from '../config/toml.js';
import { formatIssue, validateConfigText } from '../config/validate.js';

export interface SocketChoice {
  socket: string;
  /** Set when the file is not valid: what is wrong and which socket is used anyway. */
  warning?: string;
}

export function socketFromConfig(file: string, text: string, pe: PathEnv): SocketChoice {
  const { config, issues } = validateConfigText(text, file, pe);
  if (config !== null) return { socket: config.rpc.socket };
  const socket = rawSocket(text, file) ?? defaultSocketPath(pe);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more; \`pim config check\` lists them)` : '';
  return { socket, warning: `${formatIssue(issues[0]!)}${more}; using the control socket ${socket}` };
}

/**
 * `[rpc] socket` as written, if it is a non-empty string. Only the `[rpc]`
 * table's own lines are parsed, so a syntax error elsewhere does not hide it.
 */
function rawSocket(text: string, file: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^\s*\[\s*rpc\s*\]\s*(#.*)?$/.test(l));
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  let rpc: Record<string, unknown>;
  try {
    rpc = parse(lines.slice(start + 1, end < 0 ? undefined : end).join('\n'));
  } catch {
    return undefined;
  }
  const socket = rpc['socket'];
  return typeof socket === 'string' && socket !== '' ? path.resolve(path.dirname(file), socket) : undefined;
}
