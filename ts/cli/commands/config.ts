// `pim config check` validates without starting; `pim config init` writes
// the commented defaults, atomically, never over an existing file unless --force.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatIssue, validateConfigText } from '../../config/validate.js';
import { renderDefaultConfig } from '../../config/template.js';
import { PimError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { hasFlag, stringFlag } from '../args.js';
import { cliContext, configPath } from '../context.js';
import type { Command } from './command.js';

const USAGE = 'pim config check [-c FILE] | pim config init [-o FILE] [--force]';

export const config: Command = {
  name: 'config',
  summary: 'check a config file, or write a commented default one',
  usage: USAGE,
  flags: { config: { short: 'c', value: true }, output: { short: 'o', value: true }, force: {} },
  async run(args) {
    const [sub, ...rest] = args.positional;
    if (rest.length > 0 || (sub !== 'check' && sub !== 'init')) {
      throw new PimError('usage', sub === undefined ? 'missing config subcommand' : `unknown config subcommand '${sub}'`, { hint: USAGE });
    }
    const ctx = cliContext(stringFlag(args, 'config'));
    if (sub === 'check') return check(configPath(ctx), ctx.pathEnv);
    return init(stringFlag(args, 'output') ?? configPath(ctx), hasFlag(args, 'force'), ctx.pathEnv);
  },
};

async function check(file: string, pathEnv: Parameters<typeof validateConfigText>[2]): Promise<number> {
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

async function init(file: string, force: boolean, pathEnv: Parameters<typeof renderDefaultConfig>[0]): Promise<number> {
  if (!force && fs.existsSync(file)) {
    throw new PimError('io_failed', `${file} already exists; not overwriting it`, { hint: 'pass --force to replace it, or -o to write elsewhere' });
  }
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, renderDefaultConfig(pathEnv), 0o600);
  process.stdout.write(`wrote ${file}\n`);
  return 0;
}
