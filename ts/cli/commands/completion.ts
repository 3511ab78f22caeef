// `pim completion bash|zsh` prints the shell's completion script, generated
// from the command table.

import { Argument, Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion.js';
import { helpFooter } from '../help.js';

export function completionCommand(program: Command): Command {
  return new Command('completion')
    .description('print the completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      helpFooter({
        env: [],
        examples: [
          'pim completion bash | sudo tee /etc/bash_completion.d/pim >/dev/null',
          'pim completion zsh > "${fpath[1]}/_pim"    # then start a new shell',
        ],
      }),
    )
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}
