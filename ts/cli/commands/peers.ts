// `pim peers` lists peers; `pim peers forget <id>` drops a peer's pin and
// session; `pim peers pair <id>` trusts a peer (persisted) and connects.

import { PimError } from '../../errors.js';
import { hasFlag, stringFlag, type ParsedArgs } from '../args.js';
import { cliContext, printJson, withClient } from '../context.js';
import { renderPeers } from '../render.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

const USAGE =
  'pim peers [--json] | pim peers forget <short_id> | pim peers pair <node_id|short_id> | ' +
  'pim peers add <host:port> --public-key HEX [--label L] | pim peers remove <short_id|label>  [-c FILE]';

function idArgument(args: ParsedArgs, sub: string): string {
  const rest = args.positional.slice(1);
  if (rest.length !== 1) throw new PimError('usage', `pim peers ${sub} takes one peer id`, { hint: `usage: ${USAGE}` });
  return rest[0]!;
}

export const peers: Command = {
  name: 'peers',
  summary: 'list peers; forget <id> | pair <id> | add <host:port> --public-key HEX | remove <id|label>',
  usage: USAGE,
  flags: { ...CONFIG_FLAG, ...JSON_FLAG, 'public-key': { value: true }, label: { value: true } },
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
    if (sub === 'add') {
      const address = idArgument(args, sub);
      const publicKey = stringFlag(args, 'public-key');
      if (publicKey === undefined) throw new PimError('usage', 'pim peers add needs --public-key HEX', { hint: `usage: ${USAGE}` });
      const label = stringFlag(args, 'label');
      const r = (await withClient(ctx, (c) =>
        c.call('peers.add_static', { address, public_key: publicKey, ...(label === undefined ? {} : { label }) }),
      )) as { node_id: string };
      process.stdout.write(`pim: added static peer ${r.node_id} at ${address} to the config\n`);
      return;
    }
    if (sub === 'remove') {
      const ref = idArgument(args, sub);
      await withClient(ctx, async (c) => {
        const list = (await c.call('peers.list')) as { node_id: string; label: string | null; static: boolean }[];
        const byLabel = list.find((p) => p.static && p.label === ref);
        await c.call('peers.remove', { node_id: byLabel ? byLabel.node_id : ref });
      });
      process.stdout.write(`pim: removed static peer ${ref} from the config\n`);
      return;
    }
    if (sub !== undefined) throw new PimError('usage', `unknown peers subcommand '${sub}'`, { hint: `usage: ${USAGE}` });
    const list = (await withClient(ctx, (c) => c.call('peers.list'))) as Record<string, unknown>[];
    if (hasFlag(args, 'json')) printJson({ peers: list });
    else process.stdout.write(`${renderPeers(list)}\n`);
  },
};
