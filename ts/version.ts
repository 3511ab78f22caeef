// The package version, read once from package.json (dist/ts/version.js → ../../package.json).

import * as fs from 'node:fs';
import * as path from 'node:path';

export const VERSION: string = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
