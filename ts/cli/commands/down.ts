// `pim down` asks the daemon to stop (daemon.stop) and waits until its
// control socket is gone, i.e. the engine, TUN and socket are cleaned up.

import * as fs from 'node:fs';
import { PimError } from '../../errors.js';
import { stringFlag } from '../args.js';
import { cliContext, socketPath, withClient } from '../context.js';
import type { Command } from './command.js';

const STOP_TIMEOUT_MS = 20_000;

export const down: Command = {
  name: 'down',
  summary: 'stop the daemon and wait until it has cleaned up',
  usage: 'pim down [-c FILE]',
  flags: { config: { short: 'c', value: true } },
  async run(args) {
    const ctx = cliContext(stringFlag(args, 'config'));
    const socket = await socketPath(ctx);
    await withClient(ctx, (c) => c.call('daemon.stop'));
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (fs.existsSync(socket)) {
      if (Date.now() > deadline) throw new PimError('internal', `the daemon did not finish stopping within ${STOP_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    process.stdout.write('pim: daemon stopped\n');
  },
};
