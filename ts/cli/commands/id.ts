// `pim id` needs no daemon: it reads (or creates) the key file named by the config.

import { Command } from 'commander';
import { loadConfigOrDefaults } from '../../config/load.js';
import { loadIdentity } from '../../identity/identity.js';
import { cliContext, configPath, printJson } from '../context.js';
import { CONFIG_ENV, helpFooter, JSON_OPTION } from '../help.js';

export function idCommand(): Command {
  return new Command('id')
    .description("print this node's node_id, short id and public key (creates the key file if missing; needs no daemon)")
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: CONFIG_ENV, examples: ['sudo pim id', 'pim id -c ./pim.toml --json'] }))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      const { config } = await loadConfigOrDefaults(ctx.configFlag === undefined ? undefined : configPath(ctx), ctx.pathEnv);
      const identity = loadIdentity(config.security.key_file);
      if (identity.created) process.stderr.write(`pim: created a new identity key at ${config.security.key_file}\n`);
      if (opts.json) {
        printJson({ node_id: identity.nodeId, node_id_short: identity.shortId, x25519_pubkey: identity.publicKeyHex });
        return;
      }
      process.stdout.write(`node_id     ${identity.nodeId}\nshort id    ${identity.shortId}\npublic key  ${identity.publicKeyHex}\n`);
    });
}
