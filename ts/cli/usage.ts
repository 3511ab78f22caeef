// Commander's exits become ours: usage mistakes are a `pim: ` line with a
// hint and exit 2; printed help and version are clean exits.

import type { Command, CommanderError } from 'commander';
import { PimError } from '../errors.js';

/** Commander asked to end the run without an error: help or the version was printed. */
export class CleanExit {
  constructor(readonly code: number) {}
}

/** `pim peers pair`, for messages. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function fromCommander(err: CommanderError, cmd: Command): PimError | CleanExit {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return new CleanExit(0);
  // Help shown because a command was missing (`pim`, `pim peers help frob`) is a usage error.
  if (err.code === 'commander.help') return new CleanExit(err.exitCode === 0 ? 0 : 2);
  const hint = `see \`${commandPath(cmd)} --help\``;
  if (err.code === 'commander.excessArguments') {
    const extra = cmd.args[cmd.registeredArguments.length];
    return new PimError('usage', `unexpected argument '${extra}' for ${commandPath(cmd)}`, { hint });
  }
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = rest.map((l) => /^\(Did you mean (.+)\?\)$/.exec(l)?.[1]).find((s) => s !== undefined);
  return new PimError('usage', first, { hint: suggestion === undefined ? hint : `did you mean ${suggestion}?` });
}

/**
 * A command that lists something and also has subcommands (`pim peers`):
 * commander hands an unknown subcommand to its action as an extra argument;
 * this reports it the way commander reports an unknown top-level command,
 * with its suggestion.
 */
export function refuseUnknownSubcommand(cmd: Command): void {
  if (cmd.args.length === 0) return;
  // unknownCommand() is commander's own reporter (not in its typings).
  (cmd as unknown as { unknownCommand(): never }).unknownCommand();
}
