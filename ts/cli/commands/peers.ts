// `pim peers` lists peers; `forget` drops a peer's pin and session; `pair`
// trusts a peer (persisted) and connects; `add`/`remove` edit static peers.

import { Command } from 'commander';
import { cliContext, printJson, withClient } from '../context.js';
import { DAEMON_ENV, helpFooter, JSON_OPTION } from '../help.js';
import { refuseUnknownSubcommand } from '../usage.js';
import { withDiscovered } from '../discovered.js';
import { renderPeers } from '../render.js';

const footer = (...examples: string[]): string => helpFooter({ env: DAEMON_ENV, examples });

function forgetCommand(): Command {
  return new Command('forget')
    .description("drop the peer's trust record (TOFU pin) and session, so it can pair again from a clean slate")
    .argument('<short_id>', 'the peer: its node_id or a unique prefix of 8+ hex digits')
    .addHelpText('after', footer('sudo pim peers forget 3fa2c1d0'))
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await withClient(cliContext(cmd), (c) => c.call('peers.forget', { node_id: id }));
      process.stdout.write(`pim: forgot ${id}; it can pair again from a clean slate\n`);
    });
}

function pairCommand(): Command {
  return new Command('pair')
    .description('trust a peer (persisted in the trust store) and connect, e.g. a discovered one or one refused as untrusted')
    .argument('<node_id>', 'the peer: its node_id or a unique prefix of 8+ hex digits (the short id `pim peers` shows)')
    .option(...JSON_OPTION)
    .addHelpText('after', footer('sudo pim peers pair 3fa2c1d0'))
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const r = (await withClient(cliContext(cmd), (c) => c.call('peers.pair', { node_id: id }))) as { node_id: string; state: string };
      if (opts.json) printJson(r);
      else process.stdout.write(`pim: paired with ${r.node_id} (${r.state})\n`);
    });
}

function addCommand(): Command {
  return new Command('add')
    .description('add a static peer to the config file and apply it live')
    .argument('<host:port>', "the peer's UDP address, e.g. 192.0.2.7:9100")
    .requiredOption('--public-key <hex>', "the peer's public key (64 hex digits; `pim id` on the peer prints it)")
    .option('--label <label>', 'a name for the peer in listings')
    .addHelpText('after', footer('sudo pim peers add 192.0.2.7:9100 --public-key 6b1f…e09a --label home-gw'))
    .action(async (address: string, opts: { publicKey: string; label?: string }, cmd: Command) => {
      const r = (await withClient(cliContext(cmd), (c) =>
        c.call('peers.add_static', { address, public_key: opts.publicKey, ...(opts.label === undefined ? {} : { label: opts.label }) }),
      )) as { node_id: string };
      process.stdout.write(`pim: added static peer ${r.node_id} at ${address} to the config\n`);
    });
}

function removeCommand(): Command {
  return new Command('remove')
    .description('remove a static peer from the config file and apply it live')
    .argument('<short_id|label>', "the peer's node_id, a unique prefix of 8+ hex digits, or its label")
    .addHelpText('after', footer('sudo pim peers remove home-gw'))
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await withClient(cliContext(cmd), async (c) => {
        const list = (await c.call('peers.list')) as { node_id: string; label: string | null; static: boolean }[];
        const byLabel = list.find((p) => p.static && p.label === ref);
        await c.call('peers.remove', { node_id: byLabel ? byLabel.node_id : ref });
      });
      process.stdout.write(`pim: removed static peer ${ref} from the config\n`);
    });
}

export function peersCommand(): Command {
  return new Command('peers')
    .description('list peers (short id, label, mesh IP, endpoint, state, path, last handshake, traffic, latency) and nodes discovered on the LAN')
    .option(...JSON_OPTION)
    .allowExcessArguments()
    .addHelpText('after', footer('sudo pim peers', 'sudo pim peers --json'))
    .addCommand(forgetCommand())
    .addCommand(pairCommand())
    .addCommand(addCommand())
    .addCommand(removeCommand())
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      refuseUnknownSubcommand(cmd);
      type Rows = Record<string, unknown>[];
      const list = await withClient(cliContext(cmd), async (c) => withDiscovered((await c.call('peers.list')) as Rows, (await c.call('peers.discovered')) as Rows));
      if (opts.json) printJson({ peers: list });
      else process.stdout.write(`${renderPeers(list)}\n`);
    });
}
