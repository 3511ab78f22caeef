// `pim status`: this node as the daemon sees it.

import { Command } from 'commander';
import { cliContext, printJson, withClient } from '../context.js';
import { DAEMON_ENV, helpFooter, JSON_OPTION } from '../help.js';
import { renderStatus } from '../render.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('show this node: ids, mesh IP, interface, port, trust, routing, peer counts, daemon version, uptime, traffic, drops')
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim status', 'sudo pim status --json'] }))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // The daemon's version comes from its rpc.hello.
      const s = await withClient(cliContext(cmd), async (c) => ({ daemon: c.hello.daemon, ...((await c.call('status')) as Record<string, unknown>) }));
      if (opts.json) printJson(s);
      else process.stdout.write(`${renderStatus(s)}\n`);
    });
}
