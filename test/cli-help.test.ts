// `pim`'s command line as a user meets it: the help of every command (and
// `pim help <command>`), typo suggestions, usage errors with exit 2, extra
// arguments refused, -c before or after the command, the version.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkErrorOutput, pim, writeConfig } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const COMMANDS = ['up', 'down', 'status', 'peers', 'ping', 'route', 'gateway', 'watch', 'logs', 'id', 'config', 'service', 'completion'];
/** Every command that runs something, as typed after `pim`. */
const LEAVES = [
  'up', 'down', 'status', 'peers', 'peers forget', 'peers pair', 'peers add', 'peers remove', 'ping', 'route on', 'route off', 'route status',
  'gateway enable', 'gateway disable', 'gateway status', 'watch', 'logs', 'id', 'config check', 'config init', 'config show', 'service install', 'completion',
];

// ── pim: help and usage ──────────────────────────────────────────────────────

test('pim --help exits 0 and lists every command', async (t) => {
  const home = tempDir(t);
  for (const flag of ['--help', '-h', 'help']) {
    const r = await pim([flag], home);
    t.is(r.code, 0, flag);
    t.is(r.stderr, '');
    for (const c of COMMANDS) t.regex(r.stdout, new RegExp(`^  ${c}\\b.*\\s{2,}\\S`, 'm'), `${flag} lists ${c}`);
    t.regex(r.stdout, /Exit codes: 0 ok, 1 failure, 2 usage error, 3 daemon not running/);
  }
});

test('pim with no command prints the usage on stderr and exits 2', async (t) => {
  const r = await pim([], tempDir(t));
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^Usage: pim /);
});

test('pim <command> --help and pim help <command> exit 0 with its usage, options, environment and an example', async (t) => {
  const home = tempDir(t);
  for (const c of LEAVES) {
    const r = await pim([...c.split(' '), '--help'], home);
    t.is(r.code, 0, c);
    t.true(r.stdout.startsWith(`Usage: pim ${c}`), r.stdout);
    t.regex(r.stdout, c === 'ping' ? /^  --config <file> /m : /^  -c, --config <file> /m, `${c} takes the config file after its name too`);
    t.regex(r.stdout, /\nExamples?:\n  \$ (sudo )?pim /, `${c} has an example`);
    if (c !== 'completion' && c !== 'service install') t.regex(r.stdout, /\nEnvironment:\n  PIM_CONFIG /, `${c} names the environment it reads`);
    const viaHelp = await pim(['help', ...c.split(' ')], home);
    if (!c.includes(' ')) t.is(viaHelp.stdout, r.stdout, `pim help ${c}`);
  }
});

test('pim help <command> <subcommand> shows the subcommand; an unknown one is a usage error listing the choices', async (t) => {
  const home = tempDir(t);
  const r = await pim(['help', 'peers', 'add'], home);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, (await pim(['peers', 'add', '--help'], home)).stdout);
  t.regex(r.stdout, /--public-key <hex>/);
  const bad = await pim(['help', 'peers', 'ad'], home);
  t.is(bad.code, 2);
  t.is(checkErrorOutput(t, bad, 'pim'), "pim: unknown command 'pim peers ad'");
  t.regex(bad.stderr, /hint: pim peers has: forget, pair, add, remove/);
});

test('a misspelt command or option is a usage error whose hint suggests the right one', async (t) => {
  const home = tempDir(t);
  for (const [args, message, hint] of [
    [['statsu'], "unknown command 'statsu'", 'did you mean status?'],
    [['peers', 'forgte', 'x'], "unknown command 'forgte'", 'did you mean forget?'],
    [['status', '--jsno'], "unknown option '--jsno'", 'did you mean --json?'],
  ] as const) {
    const r = await pim([...args], home);
    t.is(r.code, 2, args.join(' '));
    t.is(checkErrorOutput(t, r, 'pim'), `pim: ${message}`);
    t.true(r.stderr.endsWith(`pim: hint: ${hint}\n`), r.stderr);
  }
});

test('extra arguments are refused with exit 2, naming the first one', async (t) => {
  const home = tempDir(t);
  for (const [args, extra] of [
    [['status', 'extra'], 'extra'],
    [['down', 'now'], 'now'],
    [['id', 'x', 'y'], 'x'],
    [['route', 'on', 'please'], 'please'],
    [['peers', 'forget', 'a1b2c3d4', 'again'], 'again'],
  ] as const) {
    const r = await pim([...args], home);
    t.is(r.code, 2, args.join(' '));
    t.regex(checkErrorOutput(t, r, 'pim'), new RegExp(`^pim: unexpected argument '${extra}' for pim `));
  }
});

test('-c is accepted before the command as well as after it; after pim ping, -c is its count and --config the file', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir);
  const before = await pim(['-c', file, 'id', '--json'], dir);
  const after = await pim(['id', '--json', '-c', file], dir);
  t.is(before.code, 0, before.stderr);
  t.is(after.code, 0, after.stderr);
  t.deepEqual(JSON.parse(before.stdout), JSON.parse(after.stdout));
  t.true(fs.existsSync(path.join(dir, 'keys', 'node.key')), 'the key named by -c FILE, not the default one');
  for (const args of [['-c', file, 'ping', 'x', '-c', '2'], ['ping', 'x', '-c', '2', '--config', file]]) {
    const r = await pim(args, dir);
    t.is(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    t.true(r.stderr.includes(path.join(dir, 'run', 'pim.sock')), 'the daemon of FILE was asked');
  }
});

test('pim --version prints the package version', async (t) => {
  const r = await pim(['--version'], tempDir(t));
  t.is(r.code, 0);
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string };
  t.is(r.stdout, `pim ${pkg.version}\n`);
});

test('an unknown command exits 2 with one `pim: ` line naming it', async (t) => {
  const r = await pim(['frobnicate'], tempDir(t));
  t.is(r.code, 2);
  t.is(r.stdout, '');
  const line = checkErrorOutput(t, r, 'pim');
  t.true(line.includes('frobnicate'), line);
});

const usageCases: Array<[rule: string, args: string[]]> = [
  ['an unknown option', ['status', '--frob']],
  ['a missing option value', ['status', '-c']],
  ['a value given to a switch', ['status', '--json=1']],
  ['a value outside the choices', ['logs', '--level', 'loud']],
  ['a missing required option', ['peers', 'add', '192.0.2.1:9100']],
  ['a missing argument', ['peers', 'pair']],
  ['an unknown config subcommand', ['config', 'frob']],
  ['a missing config subcommand', ['config']],
];
for (const [rule, args] of usageCases) {
  test(`pim exits 2 on ${rule}: ${args.join(' ')}`, async (t) => {
    const r = await pim(args, tempDir(t));
    t.is(r.code, 2);
    checkErrorOutput(t, r, 'pim');
  });
}
