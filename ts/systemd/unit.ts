// The systemd unit pim ships (packaging/systemd/pim.service), with ExecStart
// pointing at this installation: its Node and its pim-daemon, by absolute
// path, so it runs whatever PATH or Node version manager installed pim.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../version.js';

export const UNIT_TEMPLATE = path.join(PACKAGE_ROOT, 'packaging', 'systemd', 'pim.service');
export const UNIT_PATH = '/etc/systemd/system/pim.service';
/** The unit keeps state, socket and config in the directories it makes writable. */
export const UNIT_CONFIG = '/etc/pim/pim.toml';

/** systemd's command-line quoting: plain words as they are, others in double quotes. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

export function renderUnit(daemonArgv: readonly string[]): string {
  const template = fs.readFileSync(UNIT_TEMPLATE, 'utf8');
  const execStart = `ExecStart=${[...daemonArgv, '-c', UNIT_CONFIG].map(quote).join(' ')}`;
  if (!/^ExecStart=.*$/m.test(template)) throw new Error(`${UNIT_TEMPLATE} has no ExecStart line`);
  return template.replace(/^ExecStart=.*$/m, execStart);
}
