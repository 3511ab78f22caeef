// `pim route on|off|status`: route internet traffic through a mesh gateway.

import { PimError } from '../../errors.js';
import { hasFlag, stringFlag } from '../args.js';
import { cliContext, printJson, withClient } from '../context.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

const USAGE = 'pim route on|off|status [-c FILE] [--json]';

type Json = Record<string, unknown>;

export function renderRoute(status: Json, table: Json): string {
  const gateways = (table.gateways ?? []) as Json[];
  if (status.kill_switch === true) {
    return 'BLOCKING INTERNET: routing via the mesh is on and no gateway is reachable (`pim route off` restores normal routing)';
  }
  if (status.route_on !== true) return 'routing: direct (internet traffic does not use the mesh)';
  const selected = gateways.find((g) => g.selected === true);
  const hops = typeof selected?.hops === 'number' ? `, ${selected.hops} hop${selected.hops === 1 ? '' : 's'}` : '';
  const latency = typeof selected?.score === 'number' ? `, ${selected.score} ms` : '';
  const known = `${gateways.length} gateway${gateways.length === 1 ? '' : 's'} known`;
  return `routing: internet via gateway ${String(selected?.node_id ?? (status.routes as Json | undefined)?.selected_gateway)}${hops}${latency} (${known})`;
}

export const route: Command = {
  name: 'route',
  summary: 'route internet traffic through a mesh gateway (on), or not (off); status shows which',
  usage: USAGE,
  flags: { ...CONFIG_FLAG, ...JSON_FLAG },
  async run(args) {
    const [sub, ...rest] = args.positional;
    if (rest.length > 0 || (sub !== 'on' && sub !== 'off' && sub !== 'status')) {
      throw new PimError('usage', sub === undefined ? 'missing route subcommand' : `unknown route subcommand '${sub}'`, { hint: `usage: ${USAGE}` });
    }
    const ctx = cliContext(stringFlag(args, 'config'));
    const [status, table] = await withClient(ctx, async (c) => {
      if (sub !== 'status') await c.call('route.set_split_default', { on: sub === 'on' });
      return [(await c.call('status')) as Json, (await c.call('route.table')) as Json];
    });
    if (hasFlag(args, 'json')) printJson({ on: status.route_on, kill_switch: status.kill_switch, selected_gateway: (status.routes as Json).selected_gateway, gateways: table.gateways });
    else process.stdout.write(`${renderRoute(status, table)}\n`);
  },
};
