// The package's own package.json, read once (dist/ts/version.js → ../../package.json).

import * as fs from 'node:fs';
import * as path from 'node:path';

export const PACKAGE_ROOT = path.join(__dirname, '..', '..');

export const PACKAGE = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  napi: { binaryName: string; targets: string[] };
};

export const VERSION: string = PACKAGE.version;
