import { readFile } from 'node:fs/promises';
import { describeError, PimError } from '../errors.js';
import { defaultConfigPath, type PathEnv } from './paths.js';
import { buildDefaults, type Config } from './schema.js';
import { formatIssue, validateConfigText } from './validate.js';

export interface LoadedConfig {
  config: Config;
  file: string;
  /** The file as read, for callers that edit it while keeping its comments. */
  text: string;
}

export interface ConfigOrDefaults {
  config: Config;
  file: string;
  /** null: there is no file, and `config` is the defaults. */
  text: string | null;
}

/** Reads and validates `file`; any problem, a missing file included, is a PimError. */
export async function loadConfig(file: string, pe: PathEnv): Promise<LoadedConfig> {
  const text = await readIfExists(file);
  if (text === null) {
    throw new PimError('config_invalid', `config file ${file} does not exist`, {
      hint: `create it with \`pim config init -o ${file}\`, or point -c at another file`,
    });
  }
  return validated(text, file, pe);
}

/**
 * For commands that also work unconfigured (`pim id`): an absent file means
 * the defaults. A file that exists but is invalid is still an error: falling
 * back to defaults then could silently widen trust.
 */
export async function loadConfigOrDefaults(file: string | undefined, pe: PathEnv): Promise<ConfigOrDefaults> {
  const target = file ?? defaultConfigPath(pe);
  const text = await readIfExists(target);
  if (text === null) return { config: buildDefaults(pe), file: target, text: null };
  return validated(text, target, pe);
}

function validated(text: string, file: string, pe: PathEnv): LoadedConfig {
  const { config, issues } = validateConfigText(text, file, pe);
  if (config === null) {
    const others = issues.length - 1;
    const more = others === 0 ? '' : ` (and ${others} more issue${others === 1 ? '' : 's'})`;
    throw new PimError('config_invalid', formatIssue(issues[0]!) + more, {
      hint: `run \`pim config check -c ${file}\` to list every issue`,
      data: issues,
    });
  }
  return { config, file, text };
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PimError('io_failed', `cannot read config file ${file}: ${describeError(err)}`, { cause: err });
  }
}
