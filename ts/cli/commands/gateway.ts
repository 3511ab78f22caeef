// `pim gateway enable [--nat-interface IF] | disable | status`: this node's gateway role (Linux).

import { Command } from 'commander';
import { cliContext, printJson, withClient } from '../context.js';
import { commandGroup } from '../group.js';
import { DAEMON_ENV, helpFooter, JSON_OPTION } from '../help.js';

type GatewayStatus = { active: boolean; nat_interface: string | null; peers_through_me: number };

function gatewaySub(name: 'enable' | 'disable' | 'status', description: string, example: string): Command {
  const cmd = new Command(name).description(description);
  if (name === 'enable') cmd.option('--nat-interface <if>', 'the interface to masquerade out of (default: [gateway] nat_interface)');
  return cmd
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: [example] }))
    .action(async (opts: { json?: boolean; natInterface?: string }, c: Command) => {
      const r = (await withClient(cliContext(c), async (client) => {
        if (name === 'enable') await client.call('gateway.enable', opts.natInterface === undefined ? {} : { nat_interface: opts.natInterface });
        if (name === 'disable') await client.call('gateway.disable');
        return client.call('gateway.status');
      })) as GatewayStatus;
      if (opts.json) printJson(r);
      else if (r.active) process.stdout.write(`gateway: on, NAT out of ${r.nat_interface}; ${r.peers_through_me} peer(s) using it\n`);
      else process.stdout.write('gateway: off\n');
    });
}

export function gatewayCommand(): Command {
  return commandGroup('gateway', "offer this node as the mesh's way to the internet (Linux: forwarding + nftables NAT)", [
    gatewaySub('enable', 'check, then turn on IPv4 forwarding and NAT for the mesh (persisted)', 'sudo pim gateway enable --nat-interface eth0'),
    gatewaySub('disable', 'remove the NAT table and restore forwarding (persisted)', 'sudo pim gateway disable'),
    gatewaySub('status', 'show whether the gateway is on and how many peers use it', 'sudo pim gateway status'),
  ]);
}
