// config.get / config.save: the config file's text (or parsed content), and
// a validated, atomic save applied live.

import * as fs from 'node:fs';
import { parse } from '../../config/toml.js';
import { PimError } from '../../errors.js';
import { defineMethod, type MethodTable } from '../dispatch.js';

export interface ConfigMethodDeps {
  configPath: string;
  save(text: string, dryRun: boolean): Promise<{ saved: boolean; requiresRestart: string[]; writtenTo: string | null }>;
}

export function configMethods(d: ConfigMethodDeps): MethodTable {
  return {
    'config.get': defineMethod({ format: { type: 'string', optional: true } }, async ({ format }) => {
      if (format !== undefined && format !== 'toml' && format !== 'json') {
        throw new PimError('invalid_params', `invalid params: 'format' must be "toml" or "json"`);
      }
      const [text, stat] = await Promise.all([fs.promises.readFile(d.configPath, 'utf8'), fs.promises.stat(d.configPath)]);
      return {
        format: format ?? 'toml',
        config: format === 'json' ? parse(text) : text,
        source_path: d.configPath,
        last_modified: stat.mtime.toISOString(),
      };
    }),
    'config.save': defineMethod(
      { format: { type: 'string', optional: true }, config: { type: 'string' }, dry_run: { type: 'boolean', optional: true } },
      async ({ format, config, dry_run }) => {
        // pim-ui names the format of every save; the file is TOML, so only TOML text is taken.
        if (format !== undefined && format !== 'toml') throw new PimError('invalid_params', `invalid params: 'format' must be "toml" (the config file is TOML)`);
        const r = await d.save(config, dry_run ?? false);
        return { saved: r.saved, requires_restart: r.requiresRestart, written_to: r.writtenTo };
      },
    ),
  };
}
