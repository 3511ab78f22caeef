import test from 'ava';
import { formatPath, indexKeys, locate } from '../ts/config/locate.js';

// Each case: a document, a path, and where the scanner must say it is
// (line, column, 1-based). Named by the rule the case checks.

interface Case {
  rule: string;
  lines: string[];
  path: string;
  at: [line: number, column: number];
}

const cases: Case[] = [
  { rule: 'key in a table', lines: ['[transport]', 'bind = "0.0.0.0"', 'listen_port = 9100'], path: 'transport.listen_port', at: [3, 1] },
  { rule: 'key before any header belongs to the root', lines: ['top = 1', '[a]', 'top = 2'], path: 'top', at: [1, 1] },
  { rule: 'indented key: column of its first character', lines: ['[log]', '   level = "info"'], path: 'log.level', at: [2, 4] },
  { rule: 'tab indentation counts as one column', lines: ['[log]', '\tlevel = "info"'], path: 'log.level', at: [2, 2] },
  { rule: 'table header itself', lines: ['# c', '', '[gateway]', 'enabled = true'], path: 'gateway', at: [3, 1] },
  { rule: 'header with inner spaces', lines: ['[ transport ]', 'bind = "x"'], path: 'transport.bind', at: [2, 1] },
  { rule: 'quoted header', lines: ['["trust"]', 'mode = "tofu"'], path: 'trust.mode', at: [2, 1] },
  { rule: 'missing key falls back to its table header', lines: ['[node]', 'name = "a"', '', '[interface]', 'mtu = 1'], path: 'interface.address', at: [4, 1] },
  { rule: 'missing table falls back to 1:1', lines: ['[node]', 'name = "a"'], path: 'interface.mtu', at: [1, 1] },
  { rule: 'array-of-tables entries are counted', lines: ['[[peers]]', 'public_key = "a"', '[[peers]]', 'address = "x"', 'public_key = "b"'], path: 'peers[1].public_key', at: [5, 1] },
  { rule: 'missing key in the second [[peers]] falls back to that header', lines: ['[[peers]]', 'address = "x"', '[[peers]]', 'label = "y"'], path: 'peers[1].address', at: [3, 1] },
  { rule: 'the array itself is where it first appears', lines: ['[log]', '[[peers]]', '[[peers]]'], path: 'peers', at: [2, 1] },
  { rule: 'a table between [[peers]] entries does not reset the count', lines: ['[[peers]]', '[log]', 'level = "x"', '[[peers]]', 'label = "z"'], path: 'peers[1].label', at: [5, 1] },
  { rule: 'nested arrays of tables count per parent', lines: ['[[a]]', '[[a.b]]', '[[a]]', '[[a.b]]', 'k = 1', '[[a.b]]', 'k = 2'], path: 'a[1].b[1].k', at: [7, 1] },
  { rule: 'sub-table of the latest array entry', lines: ['[[a]]', '[[a]]', '[a.sub]', 'k = 1'], path: 'a[1].sub.k', at: [4, 1] },
  { rule: 'dotted key at the root', lines: ['transport.listen_port = 1'], path: 'transport.listen_port', at: [1, 1] },
  { rule: 'dotted key inside a table', lines: ['[a]', 'x = 0', '  b.c = 1'], path: 'a.b.c', at: [3, 3] },
  { rule: 'implicit table of a dotted key', lines: ['[a]', 'b.c = 1'], path: 'a.b', at: [2, 1] },
  { rule: 'double-quoted key', lines: ['[transport]', '"listen_port" = 1'], path: 'transport.listen_port', at: [2, 1] },
  { rule: 'single-quoted key', lines: ['[transport]', "x = 1", "'bind' = 'y'"], path: 'transport.bind', at: [3, 1] },
  { rule: 'quoted key containing a dot', lines: ['[t]', 'a = 1', '"a.b" = 2'], path: 't."a.b"', at: [3, 1] },
  { rule: 'quoted key with an escape', lines: ['[t]', '"\\u0061b" = 2'], path: 't.ab', at: [2, 1] },
  { rule: 'commented-out key is not a key', lines: ['[log]', '# level = "x"', 'level = "y"'], path: 'log.level', at: [3, 1] },
  { rule: 'comment after a header', lines: ['[log] # [rpc]', 'level = "y"'], path: 'log.level', at: [2, 1] },
  {
    rule: 'multi-line basic string hides keys and headers',
    lines: ['[node]', 'name = """', 'level = 1', '[log]', '"""', '[log]', 'level = 2'],
    path: 'log.level',
    at: [7, 1],
  },
  {
    rule: 'multi-line basic string with an escaped delimiter',
    lines: ['[node]', 'name = """a \\""" still inside', 'level = 1', '"""', 'level = 2'],
    path: 'node.level',
    at: [5, 1],
  },
  {
    rule: 'multi-line string closed by extra quotes',
    lines: ['[node]', 'name = """x""""" ', 'level = 2'],
    path: 'node.level',
    at: [3, 1],
  },
  {
    rule: 'multi-line literal string hides keys',
    lines: ['[node]', "name = '''", 'level = 1', "'''", 'level = 2'],
    path: 'node.level',
    at: [5, 1],
  },
  {
    rule: 'multi-line array hides comments, brackets and quotes in strings',
    lines: ['[trust]', 'allow_list = [', '  "a]#", # level = 1', "  '[log]',", ']', 'level = 2'],
    path: 'trust.level',
    at: [6, 1],
  },
  {
    rule: 'array element in a multi-line array',
    lines: ['[trust]', 'allow_list = [', '  "a",', '  # "x",', '  "b", "c",', ']'],
    path: 'trust.allow_list[2]',
    at: [5, 8],
  },
  { rule: 'nested arrays', lines: ['x = [[1, 2], [3, 4]]'], path: 'x[1][0]', at: [1, 15] },
  { rule: 'key inside an inline table', lines: ['peers = [{ address = "a" }, { address = "b", public_key = "c" }]'], path: 'peers[1].public_key', at: [1, 46] },
  { rule: 'inline table as a value', lines: ['[a]', 'b = { c = 1, d.e = 2 }'], path: 'a.b.d.e', at: [2, 14] },
  { rule: 'escaped quote does not end a string', lines: ['[a]', 'x = "y\\" z = 1"', 'z = 2'], path: 'a.z', at: [3, 1] },
  { rule: 'date-time with a space separator', lines: ['[a]', 'when = [1979-05-27 07:32:00Z, 1980-01-01]', 'x = 1'], path: 'a.when[1]', at: [2, 31] },
  { rule: 'CRLF line endings', lines: ['[log]\r', 'x = 1\r', 'level = "y"\r'], path: 'log.level', at: [3, 1] },
  { rule: 'array element falls back to its key', lines: ['[trust]', 'allow_list = "not an array"'], path: 'trust.allow_list[2]', at: [2, 1] },
];

for (const { rule, lines, path, at } of cases) {
  test(`locate: ${rule}`, (t) => {
    const [line, column] = at;
    t.deepEqual(locate(indexKeys(lines.join('\n')), path), { line, column });
  });
}

// The scanner only ever sees documents smol-toml accepted, but it must not hang
// or throw on anything else.
test('locate: a malformed document still terminates', (t) => {
  const index = indexKeys('x = 1\n[a\nb = [1,,\n"unterminated\nc = {d = \n[e]\n"\\U99999999" = """\n');
  t.deepEqual(locate(index, 'x'), { line: 1, column: 1 });
  t.deepEqual(locate(index, 'a.b'), { line: 3, column: 1 });
});

test('formatPath: bare keys, indices, and quoted keys', (t) => {
  t.is(formatPath(['peers', 1, 'public_key']), 'peers[1].public_key');
  t.is(formatPath(['t', 'a.b', 'c d']), 't."a.b"."c d"');
  t.is(formatPath([]), '');
});
