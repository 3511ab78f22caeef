import * as fs from 'node:fs';
import { parse } from '../../config/toml.js';
import type { Daemon } from '../../daemon/daemon.js';
import { saveConfig } from '../../daemon/config-ops.js';
import { PimError } from '../../errors.js';
import { defineMethod, type MethodTable } from '../dispatch.js';

export function configMethods(d: Daemon): MethodTable {
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
    'config.save': defineMethod({ config: { type: 'string' }, dry_run: { type: 'boolean', optional: true } }, ({ config, dry_run }) =>
      d.editConfig(() => saveConfig(d, config, dry_run ?? false)),
    ),
  };
}
