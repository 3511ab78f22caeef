// `pim config check` validates without starting; `pim config init` writes
// the commented defaults, atomically, never over an existing file unless --force.

import { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PathEnv } from '../../config/paths.js';
import { renderDefaultConfig } from '../../config/template.js';
import { formatIssue, validateConfigText } from '../../config/validate.js';
import { PimError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { cliContext, configPath } from '../context.js';
import { commandGroup } from '../group.js';
import { CONFIG_ENV, helpFooter } from '../help.js';

function checkCommand(): Command {
  return new Command('check')
    .description('validate the config file without starting; each problem as file:line:col: path: message; exit 1 if any')
    .addHelpText('after', helpFooter({ env: CONFIG_ENV, examples: ['pim config check -c /etc/pim/pim.toml'] }))
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = cliContext(cmd);
      process.exitCode = await check(configPath(ctx), ctx.pathEnv);
    });
}

function initCommand(): Command {
  return new Command('init')
    .description('write a commented default config (refuses to overwrite an existing file without --force)')
    .option('-o, --output <file>', 'where to write it (default: the config file, as for -c)')
    .option('--force', 'replace an existing file')
    .addHelpText('after', helpFooter({ env: CONFIG_ENV, examples: ['sudo pim config init', 'pim config init -o ./pim.toml'] }))
    .action(async (opts: { output?: string; force?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      await init(opts.output ?? configPath(ctx), opts.force === true, ctx.pathEnv);
    });
}

export function configCommand(): Command {
  return commandGroup('config', 'check a config file, or write a commented default one', [checkCommand(), initCommand()]);
}

async function check(file: string, pathEnv: PathEnv): Promise<number> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new PimError('config_invalid', `cannot read ${file}: ${(err as Error).message}`, { hint: `create one with \`pim config init -o ${file}\`` });
  }
  const { issues } = validateConfigText(text, file, pathEnv);
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
