// `pim route on|off|status`: route internet traffic through a mesh gateway.

import { Command } from 'commander';
import { cliContext, printJson, withClient } from '../context.js';
import { commandGroup } from '../group.js';
import { DAEMON_ENV, helpFooter, JSON_OPTION } from '../help.js';
import { renderRoute } from '../render.js';

type Json = Record<string, unknown>;

function routeSub(name: 'on' | 'off' | 'status', description: string): Command {
  return new Command(name)
    .description(description)
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: [`sudo pim route ${name}`] }))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const [status, table] = await withClient(cliContext(cmd), async (c) => {
        if (name !== 'status') await c.call('route.set_split_default', { on: name === 'on' });
        return [(await c.call('status')) as Json, (await c.call('route.table')) as Json];
      });
      if (opts.json) printJson({ on: status.route_on, kill_switch: status.kill_switch, lockdown: status.lockdown, selected_gateway: (status.routes as Json).selected_gateway, gateways: table.gateways });
      else process.stdout.write(`${renderRoute(status, table)}\n`);
    });
}

export function routeCommand(): Command {
  return commandGroup('route', 'route internet traffic through a mesh gateway (on), or not (off); status shows which', [
    routeSub('on', 'route internet traffic via the best reachable mesh gateway (persisted); blocks internet while none is reachable'),
    routeSub('off', 'restore normal OS routing (persisted)'),
    routeSub('status', 'show the selected gateway, or BLOCKING INTERNET'),
  ]);
}
