// The install a user gets from npm, on a machine without Rust: the release
// tarballs (`npm run pack`: the main package and this platform's package),
// installed with `npm install -g` into an empty prefix, run from a PATH with
// no cargo. pim --version, id and config init work; a daemon started from the
// install comes up in a namespace and answers pim status; without the
// platform package the daemon names the platform it looked for and how to
// build from source.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, type RunResult } from '../ts/lab/exec.js';
import { prepareNode, writeConfig } from '../ts/lab/mesh.js';
import type { Lab, Node } from '../ts/lab/netns.js';
import { currentAbi, platformPackage } from '../ts/packaging/platform.js';
import { PACKAGE } from '../ts/version.js';
import { labTests } from './helpers/lab.js';

const labTest = labTests({ prefix: 'pkg', timeoutMs: 300_000 });

const PACK_JS = path.join(__dirname, '..', 'ts', 'packaging', 'pack.js');

/** Node's and npm's directory and the system's, nothing else: no ~/.cargo/bin. */
const BARE_PATH = [path.dirname(process.execPath), '/usr/bin', '/bin'].join(':');

async function tarList(tarball: string): Promise<string[]> {
  return (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter((l) => l !== '');
}

async function installed(t: ExecutionContext, lab: Lab): Promise<{ prefix: string; env: NodeJS.ProcessEnv }> {
  const dir = await lab.tmpDir();
  const out = path.join(dir, 'tarballs');
  const tarballs = (await run(process.execPath, [PACK_JS, out], { timeoutMs: 120_000 })).stdout.trim().split('\n');
  const abi = currentAbi();
  const platform = tarballs.find((f) => path.basename(f).startsWith(`${platformPackage(abi)}-`));
  const main = tarballs.find((f) => path.basename(f) === `${PACKAGE.name}-${PACKAGE.version}.tgz`);
  if (platform === undefined || main === undefined) throw new Error(`npm run pack made ${tarballs.join(', ')}`);

  // The platform package holds the addon and nothing else; the main package has no addon.
  t.deepEqual((await tarList(platform)).sort(), ['package/README.md', 'package/package.json', `package/${PACKAGE.napi.binaryName}.${abi}.node`].sort());
  const mainFiles = await tarList(main);
  t.false(mainFiles.some((f) => f.endsWith('.node')), 'no addon in the main package');
  for (const f of ['package/dist/ts/cli.js', 'package/dist/ts/main.js', 'package/native/binding/index.js', 'package/packaging/systemd/pim.service']) t.true(mainFiles.includes(f), f);
  const manifest = JSON.parse((await run('tar', ['-xzOf', main, 'package/package.json'])).stdout) as { optionalDependencies?: Record<string, string> };
  t.deepEqual(manifest.optionalDependencies, { [platformPackage('linux-x64-gnu')]: PACKAGE.version, [platformPackage('linux-arm64-gnu')]: PACKAGE.version });

  const prefix = path.join(dir, 'prefix');
  // The user's environment (proxy and CA settings included) without npm's lifecycle variables,
  // with the npm cache `npm ci` filled, a fresh home and a PATH without cargo.
  const env: NodeJS.ProcessEnv = { npm_config_cache: path.join(os.homedir(), '.npm') };
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !k.startsWith('PIM_')) env[k] = v;
  Object.assign(env, { PATH: `${path.join(prefix, 'bin')}:${BARE_PATH}`, HOME: dir });
  t.not((await run('sh', ['-c', 'command -v cargo'], { env, allowFailure: true })).code, 0, 'no cargo on the PATH');
  await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', main, platform], { env, timeoutMs: 240_000 });
  return { prefix, env };
}

const ok = (t: ExecutionContext, r: RunResult, what: string): string => {
  t.is(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
};

labTest('the npm tarballs install without Rust; pim works and its daemon runs from the install; without the platform package it says what to do', async (t, lab) => {
  const { prefix, env } = await installed(t, lab);
  const pim = (node: Node | null, ...args: string[]): Promise<RunResult> =>
    node === null ? run(path.join(prefix, 'bin', 'pim'), args, { env, allowFailure: true, timeoutMs: 60_000 }) : lab.exec(node, path.join(prefix, 'bin', 'pim'), args, { env, allowFailure: true, timeoutMs: 60_000 });

  t.is(ok(t, await pim(null, '--version'), 'pim --version'), `pim ${PACKAGE.version}\n`);
  const dir = await lab.tmpDir();
  const initFile = path.join(dir, 'init.toml');
  ok(t, await pim(null, 'config', 'init', '-o', initFile), 'pim config init');
  ok(t, await pim(null, 'config', 'check', '-c', initFile), 'pim config check');

  const node = await lab.addNode('a');
  const m = await prepareNode(lab, node, { label: 'alpha' });
  writeConfig(m, [], { label: 'alpha' });
  const id = JSON.parse(ok(t, await pim(null, 'id', '--json', '-c', m.configPath), 'pim id')) as { node_id: string };
  t.is(id.node_id, m.nodeId);

  ok(t, await pim(node, 'up', '-d', '-c', m.configPath), 'pim up -d');
  const status = JSON.parse(ok(t, await pim(node, 'status', '--json', '-c', m.configPath), 'pim status')) as { node_id: string; interface: { up: boolean } };
  t.is(status.node_id, m.nodeId);
  t.true(status.interface.up);
  ok(t, await pim(node, 'down', '-c', m.configPath), 'pim down');

  // Where npm put the platform package: beside pim, or inside it as its optional dependency.
  const candidates = [path.join(prefix, 'lib', 'node_modules', platformPackage(currentAbi())), path.join(prefix, 'lib', 'node_modules', PACKAGE.name, 'node_modules', platformPackage(currentAbi()))];
  const platformDir = candidates.find((p) => fs.existsSync(p));
  if (platformDir === undefined) throw new Error(`the platform package is in none of ${candidates.join(', ')}`);
  fs.renameSync(platformDir, `${platformDir}.away`);
  const bare = await lab.exec(node, path.join(prefix, 'bin', 'pim-daemon'), ['-c', m.configPath], { env, allowFailure: true, timeoutMs: 60_000 });
  t.is(bare.code, 1, bare.stderr);
  const [error, hint] = bare.stderr.trimEnd().split('\n');
  t.is(error, `pim-daemon: no pim data plane for ${currentAbi()}: the package ${platformPackage(currentAbi())} is not installed`);
  t.regex(hint ?? '', /^pim-daemon: hint: .*npm ci && npm run build/);
});
