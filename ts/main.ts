#!/usr/bin/env node
// pim-daemon: the daemon in the foreground, logging JSON lines to stdout.

import { defaultConfigPath, currentPathEnv } from './config/paths.js';
import { runDaemon } from './daemon/run.js';
import { VERSION } from './version.js';

const USAGE = `usage: pim-daemon [-c FILE]

Runs the pim mesh VPN daemon in the foreground; logs JSON lines to stdout.
  -c, --config FILE   config file (default: $PIM_CONFIG, /etc/pim/pim.toml for root,
                      else $XDG_CONFIG_HOME/pim/pim.toml)
  -h, --help          show this help
  -V, --version       print the version
Signals: SIGTERM/SIGINT stop cleanly (TUN and socket removed); SIGHUP reloads the config.
`;

function main(argv: string[]): void {
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return;
    }
    if (a === '-V' || a === '--version') {
      process.stdout.write(`pim-daemon ${VERSION}\n`);
      return;
    }
    if ((a === '-c' || a === '--config') && argv[i + 1] !== undefined) {
      configPath = argv[++i];
      continue;
    }
    process.stderr.write(`pim-daemon: unexpected argument '${a}'\n${USAGE}`);
    process.exit(2);
  }
  const pathEnv = currentPathEnv();
  void runDaemon(configPath ?? defaultConfigPath(pathEnv), pathEnv, 'pim-daemon');
}

main(process.argv.slice(2));
