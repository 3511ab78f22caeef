// A command that only groups subcommands (`pim config`, `pim route`): given
// none, or an unknown one, it is a usage error naming the choices.

import { Command } from 'commander';
import { PimError } from '../errors.js';
import { commandPath, refuseUnknownSubcommand } from './usage.js';

export function commandGroup(name: string, description: string, subcommands: Command[]): Command {
  const group = new Command(name).description(description).allowExcessArguments();
  for (const sub of subcommands) group.addCommand(sub);
  return group.action((_opts: unknown, cmd: Command) => {
    refuseUnknownSubcommand(cmd);
    throw new PimError('usage', `${commandPath(cmd)} needs a subcommand: ${cmd.commands.map((c) => c.name()).join(', ')}`, {
      hint: `see \`${commandPath(cmd)} --help\``,
    });
  });
}
