// `pim peers` lists peers; `pim peers forget <id>` drops a peer's pin and
// session; `pim peers pair <id>` trusts a peer (persisted) and connects.

import { PimError } from '../../errors.js';
import { hasFlag, stringFlag, type ParsedArgs } from '../args.js';
import { cliContext, printJson, withClient } from '../context.js';
import { renderPeers } from '../render.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

const USAGE = 'pim peers [--json] | pim peers forget <short_id> | pim peers pair <node_id|short_id>  [-c FILE]';

function idArgument(args: ParsedArgs, sub: string): string {
  const rest = args.positional.slice(1);
  if (rest.length !== 1) throw new PimError('usage', `pim peers ${sub} takes one peer id`, { hint: `usage: ${USAGE}` });
  return rest[0]!;
}

export const peers: Command = {
  name: 'peers',
  summary: 'list peers; `forget <id>` drops a pin and session; `pair <id>` trusts a peer and connects',
  usage: USAGE,
  flags: { ...CONFIG_FLAG, ...JSON_FLAG },
  async run(args) {
    const ctx = cliContext(stringFlag(args, 'config'));
    const sub = args.positional[0];
    if (sub === 'forget') {
      const id = idArgument(args, sub);
      await withClient(ctx, (c) => c.call('peers.forget', { node_id: id }));
      process.stdout.write(`pim: forgot ${id}; it can pair again from a clean slate\n`);
      return;
    }
    if (sub === 'pair') {
      const id = idArgument(args, sub);
      const r = (await withClient(ctx, (c) => c.call('peers.pair', { node_id: id }))) as { node_id: string; state: string };
      if (hasFlag(args, 'json')) printJson(r);
      else process.stdout.write(`pim: paired with ${r.node_id} (${r.state})\n`);
      return;
    }
    if (sub !== undefined) throw new PimError('usage', `unknown peers subcommand '${sub}'`, { hint: `usage: ${USAGE}` });
    const list = (await withClient(ctx, (c) => c.call('peers.list'))) as Record<string, unknown>[];
    if (hasFlag(args, 'json')) printJson({ peers: list });
    else process.stdout.write(`${renderPeers(list)}\n`);
  },
};
