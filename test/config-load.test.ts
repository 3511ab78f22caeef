import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PimError } from '../ts/errors.js';
import { loadConfig, loadConfigOrDefaults } from '../ts/config/load.js';
import { currentPathEnv, dataDir, defaultConfigPath, defaultSocketPath, type PathEnv } from '../ts/config/paths.js';
import { buildDefaults } from '../ts/config/schema.js';
import { renderDefaultConfig } from '../ts/config/template.js';
import { validateConfigText, type ConfigIssue } from '../ts/config/validate.js';
import { tempDir } from './helpers/tmp.js';

const USER: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };
const ROOT: PathEnv = { uid: 0, env: {}, homedir: '/root' };

// ── paths ────────────────────────────────────────────────────────────────────

const pathCases: Array<[rule: string, actual: (pe: PathEnv) => string, pe: PathEnv, expected: string]> = [
  ['data dir for root', dataDir, ROOT, '/var/lib/pim'],
  ['data dir for root ignores XDG', dataDir, { ...ROOT, env: { XDG_DATA_HOME: '/x' } }, '/var/lib/pim'],
  ['data dir for a user', dataDir, USER, '/home/test/.local/share/pim'],
  ['data dir from XDG_DATA_HOME', dataDir, { ...USER, env: { XDG_DATA_HOME: '/data' } }, '/data/pim'],
  ['empty XDG_DATA_HOME is ignored', dataDir, { ...USER, env: { XDG_DATA_HOME: '' } }, '/home/test/.local/share/pim'],
  ['relative XDG_DATA_HOME is ignored', dataDir, { ...USER, env: { XDG_DATA_HOME: 'data' } }, '/home/test/.local/share/pim'],
  ['config from PIM_CONFIG', defaultConfigPath, { ...ROOT, env: { PIM_CONFIG: '/tmp/p.toml' } }, '/tmp/p.toml'],
  ['config for root', defaultConfigPath, ROOT, '/etc/pim/pim.toml'],
  ['config for a user', defaultConfigPath, USER, '/home/test/.config/pim/pim.toml'],
  ['config from XDG_CONFIG_HOME', defaultConfigPath, { ...USER, env: { XDG_CONFIG_HOME: '/cfg' } }, '/cfg/pim/pim.toml'],
  ['empty PIM_CONFIG is ignored', defaultConfigPath, { ...USER, env: { PIM_CONFIG: '' } }, '/home/test/.config/pim/pim.toml'],
  ['socket from PIM_RPC_SOCKET', defaultSocketPath, { ...USER, env: { PIM_RPC_SOCKET: '/s.sock', XDG_RUNTIME_DIR: '/run/user/1000' } }, '/s.sock'],
  ['socket in XDG_RUNTIME_DIR', defaultSocketPath, { ...USER, env: { XDG_RUNTIME_DIR: '/run/user/1000' } }, '/run/user/1000/pim.sock'],
  ['socket fallback', defaultSocketPath, USER, '/run/pim/pim.sock'],
  ['socket for root ignores XDG_RUNTIME_DIR (sudo keeps the user\'s)', defaultSocketPath, { ...ROOT, env: { XDG_RUNTIME_DIR: '/run/user/1000' } }, '/run/pim/pim.sock'],
  ['socket for root from PIM_RPC_SOCKET', defaultSocketPath, { ...ROOT, env: { PIM_RPC_SOCKET: '/s.sock', XDG_RUNTIME_DIR: '/run/user/1000' } }, '/s.sock'],
];

for (const [rule, actual, pe, expected] of pathCases) {
  test(`paths: ${rule}`, (t) => {
    t.is(actual(pe), expected);
  });
}

test('paths: currentPathEnv reads this process', (t) => {
  const pe = currentPathEnv();
  t.is(pe.uid, process.getuid!());
  t.is(pe.env, process.env);
  t.is(pe.homedir, os.homedir());
});

// ── defaults and template ────────────────────────────────────────────────────

test('defaults: files live in the data dir, name is the injected hostname', (t) => {
  const d = buildDefaults(ROOT, 'box');
  t.is(d.node.name, 'box');
  t.is(d.security.key_file, '/var/lib/pim/node.key');
  t.is(d.trust.store, '/var/lib/pim/trust.json');
  t.is(d.rpc.socket, '/run/pim/pim.sock');
  t.is(buildDefaults(USER).node.name, os.hostname());
});

for (const [who, pe] of [['a user', USER], ['root', ROOT]] as const) {
  test(`template for ${who}: validates with no issues and reads back as the defaults`, (t) => {
    const { config, issues } = validateConfigText(renderDefaultConfig(pe), '/anywhere/pim.toml', pe);
    t.deepEqual(issues, []);
    t.deepEqual(config, buildDefaults(pe));
  });
}

test('template: every key appears, unset ones and [[peers]] commented out', (t) => {
  const text = renderDefaultConfig(USER);
  const d = buildDefaults(USER);
  for (const [section, values] of Object.entries(d)) {
    if (section === 'peers') continue;
    t.true(text.includes(`\n[${section}]\n`), section);
    for (const key of Object.keys(values as object)) t.regex(text, new RegExp(`^(# )?${key} = `, 'm'), `${section}.${key}`);
  }
  t.regex(text, /^# \[\[peers\]\]$/m);
  t.regex(text, /^# address = "10\.77\.3\.9\/16"/m);
  t.regex(text, /^# nat_interface = /m);
  t.true(text.split('\n').every((line) => line === '' || line.startsWith('#') || line.startsWith('[') || / # /.test(line)), 'every key has a comment');
});

// ── loading ──────────────────────────────────────────────────────────────────

test('loadConfig: a missing file is config_invalid with a hint to create it', async (t) => {
  const file = path.join(tempDir(t), 'absent.toml');
  const err = await t.throwsAsync(loadConfig(file, USER), { instanceOf: PimError });
  t.is(err.code, 'config_invalid');
  t.is(err.message, `config file ${file} does not exist`);
  t.true(err.hint?.includes(`pim config init -o ${file}`));
});

test('loadConfig: an unreadable path is io_failed', async (t) => {
  const dir = tempDir(t);
  const err = await t.throwsAsync(loadConfig(dir, USER), { instanceOf: PimError });
  t.is(err.code, 'io_failed');
  t.true(err.message.startsWith(`cannot read config file ${dir}: `));
});

test('loadConfig: an invalid file throws the first issue, the count of the rest, and all issues as data', async (t) => {
  const file = path.join(tempDir(t), 'pim.toml');
  fs.writeFileSync(file, '[interface]\nmtu = 1\n[log]\nlevel = "loud"\nextra = 1\n');
  const err = await t.throwsAsync(loadConfig(file, USER), { instanceOf: PimError });
  t.is(err.code, 'config_invalid');
  t.is(err.message, `${file}:2:1: interface.mtu: must be between 576 and 9000, got 1 (1420 suits most links) (and 2 more issues)`);
  t.true(err.hint?.includes(`pim config check -c ${file}`));
  t.deepEqual((err.data as ConfigIssue[]).map((i) => i.path), ['interface.mtu', 'log.level', 'log.extra']);
});

test('loadConfig: a single issue has no count', async (t) => {
  const file = path.join(tempDir(t), 'pim.toml');
  fs.writeFileSync(file, '[log]\nlevel = "loud"\n');
  const err = await t.throwsAsync(loadConfig(file, USER), { instanceOf: PimError });
  t.false(err.message.includes('more issue'));
});

test('loadConfig: a valid file returns the config, the file and its text', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'pim.toml');
  const text = '[security]\nkey_file = "node.key"\n';
  fs.writeFileSync(file, text);
  const loaded = await loadConfig(file, USER);
  t.is(loaded.file, file);
  t.is(loaded.text, text);
  t.is(loaded.config.security.key_file, path.join(dir, 'node.key'));
});

test('loadConfigOrDefaults: no file means the defaults', async (t) => {
  const file = path.join(tempDir(t), 'absent.toml');
  t.deepEqual(await loadConfigOrDefaults(file, USER), { config: buildDefaults(USER), file, text: null });
});

test('loadConfigOrDefaults: without a file argument, the default config path is used', async (t) => {
  const file = path.join(tempDir(t), 'env.toml');
  fs.writeFileSync(file, '[log]\nlevel = "warn"\n');
  const loaded = await loadConfigOrDefaults(undefined, { ...USER, env: { PIM_CONFIG: file } });
  t.is(loaded.file, file);
  t.is(loaded.config.log.level, 'warn');
});

test('loadConfigOrDefaults: an invalid file is an error, never replaced by defaults', async (t) => {
  const file = path.join(tempDir(t), 'pim.toml');
  fs.writeFileSync(file, '[trust]\nmode = "trust_everyone"\n');
  const err = await t.throwsAsync(loadConfigOrDefaults(file, USER), { instanceOf: PimError });
  t.is(err.code, 'config_invalid');
});

test('loadConfig: the rendered template loads', async (t) => {
  const file = path.join(tempDir(t), 'pim.toml');
  fs.writeFileSync(file, renderDefaultConfig(USER));
  t.deepEqual((await loadConfig(file, USER)).config, buildDefaults(USER));
});
