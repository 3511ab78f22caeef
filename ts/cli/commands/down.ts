// `pim down` asks the daemon to stop (daemon.stop) and waits until its
// control socket is gone, i.e. the engine, TUN and socket are cleaned up.

import { Command } from 'commander';
import * as fs from 'node:fs';
import { PimError } from '../../errors.js';
import { cliContext, connectTo, socketPath } from '../context.js';
import { DAEMON_ENV, helpFooter } from '../help.js';

const STOP_TIMEOUT_MS = 20_000;

export function downCommand(): Command {
  return new Command('down')
    .description('stop the daemon and wait until it has cleaned up')
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim down'] }))
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = cliContext(cmd);
      const socket = await socketPath(ctx);
      const client = await connectTo(socket);
      await client.call('daemon.stop').finally(() => client.close());
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (fs.existsSync(socket)) {
        if (Date.now() > deadline) throw new PimError('internal', `the daemon did not finish stopping within ${STOP_TIMEOUT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      process.stdout.write('pim: daemon stopped\n');
    });
}
