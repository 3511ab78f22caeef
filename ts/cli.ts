#!/usr/bin/env node
// pim: the command-line client. Every command but `up`, `id` and `config`
// talks to a running daemon only through its control socket.

import { printError } from './report.js';
import { PimError } from './errors.js';
import { parseArgs } from './cli/args.js';
import type { Command } from './cli/commands/command.js';
import { config } from './cli/commands/config.js';
import { down } from './cli/commands/down.js';
import { gateway } from './cli/commands/gateway.js';
import { id } from './cli/commands/id.js';
import { logs } from './cli/commands/logs.js';
import { peers } from './cli/commands/peers.js';
import { route } from './cli/commands/route.js';
import { status } from './cli/commands/status.js';
import { up } from './cli/commands/up.js';
import { VERSION } from './version.js';

const COMMANDS: Command[] = [up, down, status, peers, route, gateway, logs, id, config];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: pim <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Every command accepts -h/--help. Commands that print state accept --json.',
    'Exit codes: 0 ok, 1 failure, 2 usage error, 3 daemon not running.',
    `pim ${VERSION}`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '-V' || name === '--version') {
    process.stdout.write(`pim ${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new PimError('usage', `unknown command '${name}'`, { hint: 'run `pim --help` for the list of commands' });
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  return (await command.run(parseArgs(rest, command.flags, `usage: ${command.usage}`))) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = printError('pim', err);
  },
);
