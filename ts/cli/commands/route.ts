// `pim route on|off|status`: route internet traffic through a mesh gateway.

import { Command } from 'commander';
import { cliContext, printJson, withClient } from '../context.js';
import { commandGroup } from '../group.js';
import { DAEMON_ENV, helpFooter, JSON_OPTION } from '../help.js';

type Json = Record<string, unknown>;

/** The routing state, then the lockdown line when [route] lockdown is on. */
export function renderRoute(status: Json, table: Json): string {
  const state = routeState(status, table);
  if (status.lockdown !== true) return state;
  return `${state}\nlockdown: on (internet stays blocked while pim is stopped, too; only \`pim route off\` lifts it)`;
}

function routeState(status: Json, table: Json): string {
  const gateways = (table.gateways ?? []) as Json[];
  if (status.kill_switch === true) {
    return 'BLOCKING INTERNET: routing via the mesh is on and no gateway is reachable (`pim route off` restores normal routing)';
  }
  if (status.route_on !== true) return 'routing: direct (internet traffic does not use the mesh)';
  const selected = gateways.find((g) => g.selected === true);
  const hops = typeof selected?.hops === 'number' ? `, ${selected.hops} hop${selected.hops === 1 ? '' : 's'}` : '';
  const latency = typeof selected?.latency_ms === 'number' ? `, ${selected.latency_ms} ms` : '';
  const known = `${gateways.length} gateway${gateways.length === 1 ? '' : 's'} known`;
  return `routing: internet via gateway ${String(selected?.node_id ?? (status.routes as Json | undefined)?.selected_gateway)}${hops}${latency} (${known})`;
}

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
