import { PimError } from '../../errors.js';
import { hasFlag, stringFlag } from '../args.js';
import { cliContext, printJson, withClient } from '../context.js';
import { renderPeers } from '../render.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

export const peers: Command = {
  name: 'peers',
  summary: 'list peers: id, label, mesh IP, endpoint, state, path, handshake, traffic, latency',
  usage: 'pim peers [-c FILE] [--json]',
  flags: { ...CONFIG_FLAG, ...JSON_FLAG },
  async run(args) {
    if (args.positional.length > 0) {
      throw new PimError('usage', `unknown peers subcommand '${args.positional[0]}'`, { hint: 'usage: pim peers [-c FILE] [--json]' });
    }
    const list = (await withClient(cliContext(stringFlag(args, 'config')), (c) => c.call('peers.list'))) as Record<string, unknown>[];
    if (hasFlag(args, 'json')) printJson({ peers: list });
    else process.stdout.write(`${renderPeers(list)}\n`);
  },
};
