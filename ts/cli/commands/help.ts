// `pim help [command...]`: the help of any command, nested ones included
// (`pim help peers add`); commander's own help command stops at one level.

import { Command } from 'commander';
import { PimError } from '../../errors.js';
import { helpFooter } from '../help.js';
import { commandPath } from '../usage.js';

export function helpCommand(program: Command): Command {
  return new Command('help')
    .description('show the help of a command')
    .argument('[command...]', 'the command, e.g. `peers add`')
    .addHelpText('after', helpFooter({ env: [], examples: ['pim help peers add'] }))
    .action((names: string[]) => {
      let cmd = program;
      for (const name of names) {
        const sub = cmd.commands.find((c) => c.name() === name);
        if (sub === undefined) {
          throw new PimError('usage', `unknown command '${commandPath(cmd)} ${name}'`, {
            hint: `${commandPath(cmd)} has: ${cmd.commands.map((c) => c.name()).join(', ')}`,
          });
        }
        cmd = sub;
      }
      cmd.outputHelp();
    });
}
