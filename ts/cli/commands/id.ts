// Needs no daemon: reads (or creates) the key file named by the config.

import { loadConfigOrDefaults } from '../../config/load.js';
import { loadIdentity } from '../../identity/identity.js';
import { hasFlag, stringFlag } from '../args.js';
import { cliContext, configPath, printJson } from '../context.js';
import { CONFIG_FLAG, JSON_FLAG, type Command } from './command.js';

export const id: Command = {
  name: 'id',
  summary: "print this node's node_id, short id and public key (creates the key file if missing)",
  usage: 'pim id [-c FILE] [--json]',
  flags: { ...CONFIG_FLAG, ...JSON_FLAG },
  async run(args) {
    const ctx = cliContext(stringFlag(args, 'config'));
    const { config } = await loadConfigOrDefaults(ctx.configFlag === undefined ? undefined : configPath(ctx), ctx.pathEnv);
    const identity = loadIdentity(config.security.key_file);
    if (identity.created) process.stderr.write(`pim: created a new identity key at ${config.security.key_file}\n`);
    if (hasFlag(args, 'json')) {
      printJson({ node_id: identity.nodeId, node_id_short: identity.shortId, x25519_pubkey: identity.publicKeyHex });
      return;
    }
    process.stdout.write(`node_id     ${identity.nodeId}\nshort id    ${identity.shortId}\npublic key  ${identity.publicKeyHex}\n`);
  },
};
