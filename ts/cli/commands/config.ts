// `pim config check` validates without starting; `pim config init` writes
// the commented defaults, atomically, never over an existing file unless
// --force (or to stdout with -o -); `pim config show` prints the config in
// effect: the file's settings with every default filled in.

import { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigOrDefaults } from '../../config/load.js';
import type { PathEnv } from '../../config/paths.js';
import { renderDefaultConfig } from '../../config/template.js';
import { stringify } from '../../config/toml.js';
import { formatIssue, validateConfigText } from '../../config/validate.js';
import { PimError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { cliContext, configPath, printJson } from '../context.js';
import { commandGroup } from '../group.js';
import { CONFIG_ENV, helpFooter, JSON_OPTION } from '../help.js';

function checkCommand(): Command {
  return new Command('check')
    .description('validate the config file without starting; each problem as file:line:col: path: message; exit 1 if any')
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: CONFIG_ENV, examples: ['pim config check -c /etc/pim/pim.toml', 'pim config check --json'] }))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      process.exitCode = await check(configPath(ctx), ctx.pathEnv, opts.json === true);
    });
}

function initCommand(): Command {
  return new Command('init')
    .description('write a commented default config (refuses to overwrite an existing file without --force)')
    .option('-o, --output <file>', 'where to write it; - for stdout (default: the config file, as for -c)')
    .option('--force', 'replace an existing file')
    .addHelpText('after', helpFooter({ env: CONFIG_ENV, examples: ['sudo pim config init', 'pim config init -o - | less'] }))
    .action(async (opts: { output?: string; force?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      if (opts.output === '-') process.stdout.write(renderDefaultConfig(ctx.pathEnv));
      else await init(opts.output ?? configPath(ctx), opts.force === true, ctx.pathEnv);
    });
}

function showCommand(): Command {
  return new Command('show')
    .description('print the config in effect: the file with every default filled in (the defaults alone if there is no file)')
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: CONFIG_ENV, examples: ['sudo pim config show', 'pim config show -c ./pim.toml --json'] }))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      const { config, file, text } = await loadConfigOrDefaults(configPath(ctx), ctx.pathEnv);
      if (opts.json) {
        printJson({ file, exists: text !== null, config });
        return;
      }
      const source = text === null ? `no file at ${file}: these are the defaults` : `${file} with the defaults filled in`;
      // TOML has no null: settings left unset (an explicit address, a NAT interface) are not printed,
      // nor is an empty peer list (it would print as `peers = []` above every table).
      const { peers, ...rest } = config;
      process.stdout.write(`# the config in effect: ${source}\n${stringify(peers.length > 0 ? config : rest)}\n`);
    });
}

export function configCommand(): Command {
  return commandGroup('config', 'check a config file, write a commented default one, or show the config in effect', [checkCommand(), initCommand(), showCommand()]);
}

async function check(file: string, pathEnv: PathEnv, json: boolean): Promise<number> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new PimError('config_invalid', `cannot read ${file}: ${(err as Error).message}`, { hint: `create one with \`pim config init -o ${file}\`` });
  }
  const { issues } = validateConfigText(text, file, pathEnv);
  if (json) {
    printJson({ file, ok: issues.length === 0, issues });
    return issues.length === 0 ? 0 : 1;
  }
  if (issues.length === 0) {
    process.stdout.write(`${file}: ok\n`);
    return 0;
  }
  for (const issue of issues) process.stdout.write(`${formatIssue(issue)}\n`);
  process.stderr.write(`pim: ${issues.length} problem${issues.length === 1 ? '' : 's'} in ${file}\n`);
  return 1;
}

async function init(file: string, force: boolean, pathEnv: PathEnv): Promise<void> {
  if (!force && fs.existsSync(file)) {
    throw new PimError('io_failed', `${file} already exists; not overwriting it`, { hint: 'pass --force to replace it, or -o to write elsewhere' });
  }
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, renderDefaultConfig(pathEnv), 0o600);
  process.stdout.write(`wrote ${file}\n`);
}
