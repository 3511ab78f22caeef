// The CLI's argument parser: known flags only, values where a flag takes one,
// everything else positional; every mistake is a PimError 'usage' (exit 2).

import test from 'ava';
import { hasFlag, parseArgs, stringFlag, type FlagSpecs } from '../ts/cli/args.js';
import { PimError } from '../ts/errors.js';

const SPECS: FlagSpecs = {
  config: { short: 'c', value: true },
  output: { short: 'o', value: true },
  label: { value: true },
  json: {},
  force: {},
  detach: { short: 'd' },
};
const USAGE = 'usage: pim test [-c FILE] [--json]';

const parse = (argv: string[]) => parseArgs(argv, SPECS, USAGE);

// ── accepted command lines ───────────────────────────────────────────────────

const okCases: Array<[rule: string, argv: string[], positional: string[], flags: Record<string, string | true>]> = [
  ['nothing', [], [], {}],
  ['positionals only', ['peers', 'forget', 'abcd1234'], ['peers', 'forget', 'abcd1234'], {}],
  ['a short flag with its value', ['-c', 'pim.toml'], [], { config: 'pim.toml' }],
  ['a long flag with its value', ['--config', 'pim.toml'], [], { config: 'pim.toml' }],
  ['a long flag with an inline value', ['--config=pim.toml'], [], { config: 'pim.toml' }],
  ['an inline value may contain "="', ['--label=a=b'], [], { label: 'a=b' }],
  ['an inline value may start with "-"', ['--label=-x'], [], { label: '-x' }],
  ['a switch', ['--json'], [], { json: true }],
  ['a short switch', ['-d'], [], { detach: true }],
  ['flags and positionals mixed', ['check', '-c', 'f.toml', '--json', 'extra'], ['check', 'extra'], { config: 'f.toml', json: true }],
  ['flags before the positional', ['--force', '-o', '/tmp/x.toml', 'init'], ['init'], { force: true, output: '/tmp/x.toml' }],
  ['a repeated flag keeps the last value', ['-c', 'a.toml', '--config', 'b.toml'], [], { config: 'b.toml' }],
  ['a repeated switch is still a switch', ['--json', '--json'], [], { json: true }],
  ['"--" ends the options', ['--', '-c', '--json', 'x'], ['-c', '--json', 'x'], {}],
  ['flags before "--" still count', ['--json', '--', '--force'], ['--force'], { json: true }],
  ['a lone "-" is positional', ['-'], ['-'], {}],
  ['a value that looks like a path with spaces', ['-c', '/tmp/my dir/pim.toml'], [], { config: '/tmp/my dir/pim.toml' }],
];

for (const [rule, argv, positional, flags] of okCases) {
  test(`parseArgs accepts ${rule}: ${JSON.stringify(argv)}`, (t) => {
    const parsed = parse(argv);
    t.deepEqual(parsed.positional, positional);
    t.deepEqual(Object.fromEntries(parsed.flags), flags);
  });
}

test('parseArgs does not modify its input', (t) => {
  const argv = ['-c', 'x', '--', 'y'];
  parse(argv);
  t.deepEqual(argv, ['-c', 'x', '--', 'y']);
});

// ── usage errors ─────────────────────────────────────────────────────────────

const errorCases: Array<[rule: string, argv: string[], message: RegExp]> = [
  ['an unknown long option', ['--nope'], /^unknown option '--nope'$/],
  ['an unknown short option', ['-x'], /^unknown option '-x'$/],
  ['a long name given with one dash', ['-json'], /^unknown option '-json'$/],
  ['a short name given with two dashes', ['--c', 'f'], /^unknown option '--c'$/],
  ['an unknown option after valid ones', ['--json', 'status', '--verbose'], /^unknown option '--verbose'$/],
  ['an unknown option with an inline value', ['--nope=1'], /^unknown option '--nope=1'$/],
  ['a short option with "="', ['-c=f.toml'], /^unknown option '-c=f.toml'$/],
  ['a missing value at the end (short)', ['-c'], /^option '-c' needs a value$/],
  ['a missing value at the end (long)', ['--config'], /^option '--config' needs a value$/],
  ['a flag where the value should be', ['-c', '--json'], /^option '-c' needs a value$/],
  ['a short flag where the value should be', ['--output', '-c', 'x'], /^option '--output' needs a value$/],
  ['a value given to a switch', ['--json=yes'], /^option '--json' takes no value$/],
  ['an empty value given to a switch', ['--force='], /^option '--force' takes no value$/],
];

for (const [rule, argv, message] of errorCases) {
  test(`parseArgs rejects ${rule} as a usage error: ${JSON.stringify(argv)}`, (t) => {
    const err = t.throws(() => parse(argv), { instanceOf: PimError });
    t.is(err.code, 'usage');
    t.is(err.exitCode, 2);
    t.regex(err.message, message);
    t.is(err.hint, USAGE);
  });
}

// Names inherited from Object.prototype are not options.
for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
  test(`parseArgs rejects --${name}, a name inherited from Object.prototype, as an unknown option`, (t) => {
    const err = t.throws(() => parse([`--${name}`]), { instanceOf: PimError });
    t.is(err?.code, 'usage');
  });
}

// ── accessors ────────────────────────────────────────────────────────────────

test('stringFlag gives a value flag and undefined for a switch or an absent flag', (t) => {
  const args = parse(['-c', 'f.toml', '--json']);
  t.is(stringFlag(args, 'config'), 'f.toml');
  t.is(stringFlag(args, 'json'), undefined);
  t.is(stringFlag(args, 'output'), undefined);
});

test('hasFlag tells whether a flag was given at all', (t) => {
  const args = parse(['--json', '-o', 'x']);
  t.true(hasFlag(args, 'json'));
  t.true(hasFlag(args, 'output'));
  t.false(hasFlag(args, 'force'));
});
