// The command table: one commander program holding every command with its
// options, help and examples. Help, `pim help <cmd>`, typo suggestions and
// the shell completions all come from it.

import { Command } from 'commander';
import { VERSION } from '../version.js';
import { completionCommand } from './commands/completion.js';
import { configCommand } from './commands/config.js';
import { downCommand } from './commands/down.js';
import { gatewayCommand } from './commands/gateway.js';
import { helpCommand } from './commands/help.js';
import { idCommand } from './commands/id.js';
import { logsCommand } from './commands/logs.js';
import { peersCommand } from './commands/peers.js';
import { pingCommand } from './commands/ping.js';
import { routeCommand } from './commands/route.js';
import { serviceCommand } from './commands/service.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { watchCommand } from './commands/watch.js';
import { fromCommander } from './usage.js';

const EXIT_CODES = 'Exit codes: 0 ok, 1 failure, 2 usage error, 3 daemon not running.';

const CONFIG_HELP = 'config file (default: $PIM_CONFIG, else /etc/pim/pim.toml for root, else $XDG_CONFIG_HOME/pim/pim.toml)';

export function buildProgram(): Command {
  const program = new Command('pim')
    .description('pim: a peer-to-peer mesh VPN. The CLI; it talks to pim-daemon through its control socket.')
    .version(`pim ${VERSION}`, '-V, --version', 'print the version')
    .option('-c, --config <file>', CONFIG_HELP)
    // `pim -c FILE <command>`: pim's own options come before the command, so a
    // command may give -c its own meaning (`pim ping -c 3`).
    .enablePositionalOptions()
    .helpCommand(false)
    .addHelpText('after', `\nEvery command accepts -h/--help; commands that print state accept --json.\n${EXIT_CODES}`);
  for (const command of [
    upCommand(),
    downCommand(),
    statusCommand(),
    peersCommand(),
    pingCommand(),
    routeCommand(),
    gatewayCommand(),
    watchCommand(),
    logsCommand(),
    idCommand(),
    configCommand(),
    serviceCommand(),
    completionCommand(program),
    helpCommand(program),
  ]) {
    program.addCommand(command);
  }
  configure(program);
  return program;
}

function configure(cmd: Command): void {
  cmd
    .exitOverride((err) => {
      throw fromCommander(err, cmd);
    })
    .configureOutput({ outputError: () => undefined })
    .helpOption('-h, --help', 'show this help');
  // The config file after the command too (`pim status -c FILE`), as --config where -c means something else.
  if (cmd.parent !== null) cmd.option(cmd.options.some((o) => o.short === '-c') ? '--config <file>' : '-c, --config <file>', CONFIG_HELP);
  for (const sub of cmd.commands) configure(sub);
}
