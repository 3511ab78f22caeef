#!/usr/bin/env node
// `npm run pack -- DIR`: a release's npm tarballs, written to DIR. One per
// platform whose addon is built (native/binding/<binary>.<platform>.node),
// holding only that file, from npm/<platform>/ (made by `napi create-npm-dirs`);
// and the main package, which lists every platform package of the napi
// targets as an optional dependency, so npm installs the one that fits.
// The release workflow publishes exactly these tarballs.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE, PACKAGE_ROOT } from '../version.js';
import { abiOfTarget, platformPackage } from './platform.js';

interface Manifest {
  name: string;
  version: string;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

const readJson = (file: string): Manifest => JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;

/** `npm pack` of `dir` into `out`; the tarball's path. */
function npmPack(dir: string, out: string): string {
  const [result] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' })) as { filename: string }[];
  return path.join(out, result!.filename);
}

export function packRelease(out: string): string[] {
  fs.mkdirSync(out, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'pim-pack-'));
  try {
    const tarballs: string[] = [];
    for (const abi of PACKAGE.napi.targets.map(abiOfTarget)) {
      const dir = path.join(PACKAGE_ROOT, 'npm', abi);
      const manifest = readJson(path.join(dir, 'package.json'));
      if (manifest.name !== platformPackage(abi) || manifest.version !== PACKAGE.version) {
        throw new Error(`npm/${abi}/package.json is ${manifest.name}@${manifest.version}, not ${platformPackage(abi)}@${PACKAGE.version}; run \`npx napi version\``);
      }
      const addon = path.join(PACKAGE_ROOT, 'native', 'binding', `${PACKAGE.napi.binaryName}.${abi}.node`);
      if (!fs.existsSync(addon)) {
        process.stderr.write(`pack: no ${path.basename(addon)} built; skipping ${manifest.name}\n`);
        continue;
      }
      const staged = path.join(stage, abi);
      fs.mkdirSync(staged);
      for (const f of ['package.json', 'README.md']) fs.copyFileSync(path.join(dir, f), path.join(staged, f));
      fs.copyFileSync(addon, path.join(staged, path.basename(addon)));
      tarballs.push(npmPack(staged, out));
    }
    if (!fs.existsSync(path.join(PACKAGE_ROOT, 'native', 'binding', 'index.js'))) throw new Error('native/binding/index.js is missing; run `npm run build` first');
    // The main package as npm packs it (its `files`), with the optional dependencies added.
    const main = npmPack(PACKAGE_ROOT, stage);
    execFileSync('tar', ['-xzf', main, '-C', stage]);
    const manifestPath = path.join(stage, 'package', 'package.json');
    const manifest = readJson(manifestPath);
    manifest.optionalDependencies = Object.fromEntries(PACKAGE.napi.targets.map((t) => [platformPackage(abiOfTarget(t)), PACKAGE.version]));
    fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    tarballs.push(npmPack(path.join(stage, 'package'), out));
    return tarballs;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write('usage: npm run pack -- DIR\n');
    process.exit(2);
  }
  for (const t of packRelease(path.resolve(out))) process.stdout.write(`${t}\n`);
}
