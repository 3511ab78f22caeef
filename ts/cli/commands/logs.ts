// `pim logs` prints the daemon's recent log history; `-f` keeps following.

import { PimError } from '../../errors.js';
import { LOG_LEVELS } from '../../config/schema.js';
import { hasFlag, stringFlag } from '../args.js';
import { cliContext, connect } from '../context.js';
import type { Command } from './command.js';

interface Entry {
  ts: string;
  level: string;
  message: string;
  peer_id?: string;
}

function line(e: Entry): string {
  const peer = e.peer_id ? ` [${e.peer_id.slice(0, 8)}]` : '';
  return `${e.ts} ${e.level.toUpperCase().padEnd(5)}${peer} ${e.message}\n`;
}

export const logs: Command = {
  name: 'logs',
  summary: "print the daemon's recent log lines; -f follows new ones",
  usage: 'pim logs [-c FILE] [-f] [--level trace|debug|info|warn|error|fatal]',
  flags: { config: { short: 'c', value: true }, follow: { short: 'f' }, level: { value: true } },
  async run(args) {
    const level = stringFlag(args, 'level') ?? 'trace';
    const min = LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]);
    if (min < 0) throw new PimError('usage', `unknown level '${level}'`, { hint: `one of ${LOG_LEVELS.join(', ')}` });
    const shown = (e: Entry): boolean => LOG_LEVELS.indexOf(e.level as (typeof LOG_LEVELS)[number]) >= min;
    const client = await connect(cliContext(stringFlag(args, 'config')));
    const follow = hasFlag(args, 'follow');
    let expected = Infinity;
    let seen = 0;
    const done = new Promise<void>((resolve) => {
      client.onNotification((method, params) => {
        if (method !== 'logs.event') return;
        const e = params as Entry;
        if (shown(e)) process.stdout.write(line(e));
        if (++seen >= expected && !follow) resolve();
      });
    });
    const { replayed } = (await client.call('logs.subscribe')) as { replayed: number };
    expected = replayed;
    if (!follow && seen >= expected) {
      await client.close();
      return;
    }
    if (!follow) {
      await done;
      await client.close();
      return;
    }
    await client.whenClosed(); // until Ctrl-C, or the daemon stops
    process.stderr.write('pim: the daemon closed the connection\n');
    return 1;
  },
};
