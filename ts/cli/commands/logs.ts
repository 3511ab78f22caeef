// `pim logs` prints the daemon's recent log history; `-f` keeps following.

import { Command, Option } from 'commander';
import { WIRE_LOG_LEVELS, type WireLogLevel } from '../../rpc/wire.js';
import { connect, cliContext } from '../context.js';
import { DAEMON_ENV, helpFooter } from '../help.js';

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

export function logsCommand(): Command {
  return new Command('logs')
    .description("print the daemon's recent log lines (oldest first); -f follows new ones")
    .option('-f, --follow', 'keep printing new lines until the daemon stops or Ctrl-C')
    .addOption(new Option('--level <level>', 'show only lines at this level or above').choices(WIRE_LOG_LEVELS).default('trace'))
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim logs --level warn', 'sudo pim logs -f'] }))
    .action(async (opts: { follow?: boolean; level: WireLogLevel }, cmd: Command) => {
      const min = WIRE_LOG_LEVELS.indexOf(opts.level);
      const shown = (e: Entry): boolean => WIRE_LOG_LEVELS.indexOf(e.level as WireLogLevel) >= min;
      const client = await connect(cliContext(cmd));
      const follow = opts.follow === true;
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
      if (!follow) {
        if (seen < expected) await done;
        await client.close();
        return;
      }
      await client.whenClosed(); // until Ctrl-C, or the daemon stops
      process.stderr.write('pim: the daemon closed the connection\n');
      process.exitCode = 1;
    });
}
