// `pim gateway enable [--nat-interface IF] | disable | status`: this node's gateway role (Linux).

import { PimError } from '../../errors.js';
import { hasFlag, stringFlag } from '../args.js';
import { cliContext, printJson, withClient } from '../context.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

const USAGE = 'pim gateway enable [--nat-interface IF] | disable | status  [-c FILE] [--json]';

export const gateway: Command = {
  name: 'gateway',
  summary: "offer this node as the mesh's way to the internet (Linux: forwarding + nftables NAT)",
  usage: USAGE,
  flags: { ...CONFIG_FLAG, ...JSON_FLAG, 'nat-interface': { value: true } },
  async run(args) {
    const [sub, ...rest] = args.positional;
    if (rest.length > 0 || (sub !== 'enable' && sub !== 'disable' && sub !== 'status')) {
      throw new PimError('usage', sub === undefined ? 'missing gateway subcommand' : `unknown gateway subcommand '${sub}'`, { hint: `usage: ${USAGE}` });
    }
    const natInterface = stringFlag(args, 'nat-interface');
    const r = (await withClient(cliContext(stringFlag(args, 'config')), async (c) => {
      if (sub === 'enable') await c.call('gateway.enable', natInterface === undefined ? {} : { nat_interface: natInterface });
      if (sub === 'disable') await c.call('gateway.disable');
      return c.call('gateway.status');
    })) as { active: boolean; nat_interface: string | null; peers_through_me: number };
    if (hasFlag(args, 'json')) printJson(r);
    else if (r.active) process.stdout.write(`gateway: on, NAT out of ${r.nat_interface}; ${r.peers_through_me} peer(s) using it\n`);
    else process.stdout.write('gateway: off\n');
  },
};
