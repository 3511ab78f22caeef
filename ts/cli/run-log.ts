// The log of daemons started with `pim up -d`: one file beside the trust
// store (the data dir by default), appended to by every run, each run
// starting with a marker line, so the last run's lines (and how it ended)
// can be told from earlier ones.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/schema.js';

const MARKER_EVENT = 'run_start';

export function runLogPath(config: Config): string {
  return path.join(path.dirname(config.trust.store), 'pim-daemon.log');
}

/** A JSON line like the daemon's own, written before the daemon starts. */
export function writeRunMarker(fd: number, configFile: string): void {
  const line = { level: 'info', time: new Date().toISOString(), source: 'pim', event: MARKER_EVENT, msg: `pim up -d: starting pim-daemon -c ${configFile}` };
  fs.writeSync(fd, `${JSON.stringify(line)}\n`);
}

/** The last run's lines, its marker first; the whole file if no run was marked. */
export function lastRunLines(text: string): string[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const marker = `"event":"${MARKER_EVENT}"`;
  let start = 0;
  lines.forEach((l, i) => {
    if (l.includes(marker)) start = i;
  });
  return lines.slice(start);
}
