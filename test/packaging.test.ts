// The per-platform npm packages (npm/<platform>/, the napi-rs convention):
// one for each napi target, named and constrained for it, at the main
// package's version; and `npm version` (its "version" script, napi version)
// moves them along with it.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../ts/lab/exec.js';
import { abiOfTarget, platformPackage } from '../ts/packaging/platform.js';
import { PACKAGE, PACKAGE_ROOT } from '../ts/version.js';
import { tempDir } from './helpers/tmp.js';

interface PlatformManifest {
  name: string;
  version: string;
  main: string;
  files: string[];
  os: string[];
  cpu: string[];
  libc?: string[];
}

const manifest = (root: string, abi: string): PlatformManifest => JSON.parse(fs.readFileSync(path.join(root, 'npm', abi, 'package.json'), 'utf8')) as PlatformManifest;

test('every napi target has its platform package, named and constrained for it, at the main version', (t) => {
  t.true(PACKAGE.napi.targets.includes('x86_64-unknown-linux-gnu'));
  t.true(PACKAGE.napi.targets.includes('aarch64-unknown-linux-gnu'));
  t.deepEqual(fs.readdirSync(path.join(PACKAGE_ROOT, 'npm')).sort(), PACKAGE.napi.targets.map(abiOfTarget).sort());
  for (const target of PACKAGE.napi.targets) {
    const abi = abiOfTarget(target);
    const m = manifest(PACKAGE_ROOT, abi);
    const [osName, cpu, libc] = abi.split('-');
    t.like(m, { name: platformPackage(abi), version: PACKAGE.version, main: `${PACKAGE.napi.binaryName}.${abi}.node`, os: [osName], cpu: [cpu] }, abi);
    t.deepEqual(m.files, [m.main]);
    t.deepEqual(m.libc, [libc === 'gnu' ? 'glibc' : 'musl']);
  }
});

test('npm version moves the platform packages to the new version (napi version)', async (t) => {
  const dir = tempDir(t, 'pim-version-');
  fs.cpSync(path.join(PACKAGE_ROOT, 'npm'), path.join(dir, 'npm'), { recursive: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
  t.is(pkg.scripts['version'], 'napi version && git add npm');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7' }));
  await run(path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'napi'), ['version', '--cwd', dir], { timeoutMs: 60_000 });
  for (const target of PACKAGE.napi.targets) t.is(manifest(dir, abiOfTarget(target)).version, '9.8.7', target);
});
