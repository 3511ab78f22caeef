import { hasFlag, stringFlag } from '../args.js';
import { cliContext, printJson, withClient } from '../context.js';
import { renderStatus } from '../render.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

export const status: Command = {
  name: 'status',
  summary: 'show this node: ids, mesh IP, interface, port, trust, routing, peer counts',
  usage: 'pim status [-c FILE] [--json]',
  flags: { ...CONFIG_FLAG, ...JSON_FLAG },
  async run(args) {
    const s = (await withClient(cliContext(stringFlag(args, 'config')), (c) => c.call('status'))) as Record<string, unknown>;
    if (hasFlag(args, 'json')) printJson(s);
    else process.stdout.write(`${renderStatus(s)}\n`);
  },
};
