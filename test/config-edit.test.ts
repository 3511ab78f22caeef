// ts/config/edit.ts setKey, no root needed: how `pim route on|off` and
// `pim gateway enable|disable` persist into the user's own config file —
// one key changed, every other byte (comments, layout, line endings) kept.

import test, { type ExecutionContext } from 'ava';
import { setKey } from '../ts/config/edit.js';
import type { PathEnv } from '../ts/config/paths.js';
import type { Config } from '../ts/config/schema.js';
import { validateConfigText } from '../ts/config/validate.js';

const PE: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };
const FILE = '/home/test/.config/pim/pim.toml';

const BASE = [
  '# pim config, written by hand',
  '[node]',
  'name = "laptop"   # what peers see',
  '',
  '[route]',
  'internet_via_mesh = false # off until the gateway is up',
  '',
  '[gateway]',
  '  enabled = false',
  'nat_interface = "eth0"',
  '',
  '# static peers',
  '[[peers]]',
  'address = "192.0.2.7:9100"',
  `public_key = "${'a'.repeat(64)}"`,
  'label = "home # router"',
  '',
].join('\n');

interface EditCase {
  rule: string;
  text: string;
  table: string;
  key: string;
  value: boolean | string | null;
  /** The exact text expected. */
  expected: string;
  /** What the edited config must read as. */
  check: (config: Config) => boolean;
}

const replaceLine = (text: string, from: string, to: string): string => {
  if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
  return text.replace(from, to);
};

const editCases: EditCase[] = [
  {
    rule: 'replace a value: the trailing comment and every other byte are kept',
    text: BASE,
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: replaceLine(BASE, 'internet_via_mesh = false # off until', 'internet_via_mesh = true # off until'),
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'replace an indented value: the indentation is kept',
    text: BASE,
    table: 'gateway',
    key: 'enabled',
    value: true,
    expected: replaceLine(BASE, '  enabled = false', '  enabled = true'),
    check: (c) => c.gateway.enabled,
  },
  {
    rule: 'replace a string value, written as a TOML string',
    text: BASE,
    table: 'gateway',
    key: 'nat_interface',
    value: 'veth-up.1',
    expected: replaceLine(BASE, 'nat_interface = "eth0"', 'nat_interface = "veth-up.1"'),
    check: (c) => c.gateway.nat_interface === 'veth-up.1',
  },
  {
    rule: 'insert into an existing table: right under its header, nothing else moves',
    text: replaceLine(BASE, '  enabled = false\n', ''),
    table: 'gateway',
    key: 'enabled',
    value: true,
    expected: replaceLine(BASE, '  enabled = false\n', 'enabled = true\n'),
    check: (c) => c.gateway.enabled && c.gateway.nat_interface === 'eth0',
  },
  {
    rule: 'append a new table when the file has none (after [[peers]], which stays intact)',
    text: replaceLine(BASE, '[route]\ninternet_via_mesh = false # off until the gateway is up\n\n', ''),
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: `${replaceLine(BASE, '[route]\ninternet_via_mesh = false # off until the gateway is up\n\n', '')}\n[route]\ninternet_via_mesh = true\n`,
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'append a new table to a file without a final newline',
    text: '[node]\nname = "x"',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: '[node]\nname = "x"\n\n[route]\ninternet_via_mesh = true\n',
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'append to an empty file',
    text: '',
    table: 'gateway',
    key: 'enabled',
    value: false,
    expected: '[gateway]\nenabled = false\n',
    check: (c) => !c.gateway.enabled,
  },
  {
    rule: 'null removes the key (its comment with it), nothing else changes',
    text: BASE,
    table: 'route',
    key: 'internet_via_mesh',
    value: null,
    expected: replaceLine(BASE, 'internet_via_mesh = false # off until the gateway is up\n', ''),
    check: (c) => !c.route.internet_via_mesh,
  },
  {
    rule: 'null for a key that is not there changes nothing',
    text: BASE,
    table: 'route',
    key: 'nonexistent',
    value: null,
    expected: BASE,
    check: () => true,
  },
  {
    rule: 'a "#" inside the string value is not taken for a comment',
    text: '[node]\nname = "lab #1" # shown to peers\n',
    table: 'node',
    key: 'name',
    value: 'lab #2',
    expected: '[node]\nname = "lab #2" # shown to peers\n',
    check: (c) => c.node.name === 'lab #2',
  },
  {
    rule: 'a trailing comment with an apostrophe is kept',
    text: "[route]\ninternet_via_mesh = false # don't route yet\n",
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: "[route]\ninternet_via_mesh = true # don't route yet\n",
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'a trailing comment with a double quote is kept',
    text: '[gateway]\nnat_interface = "eth0" # was "wlan0"\n',
    table: 'gateway',
    key: 'nat_interface',
    value: 'eth1',
    expected: '[gateway]\nnat_interface = "eth1" # was "wlan0"\n',
    check: (c) => c.gateway.nat_interface === 'eth1',
  },
  {
    rule: 'replace a top-level dotted key `route.internet_via_mesh = false`',
    text: 'route.internet_via_mesh = false\n[node]\nname = "x"\n',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: 'route.internet_via_mesh = true\n[node]\nname = "x"\n',
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'insert into a table defined only by dotted keys',
    text: 'gateway.enabled = true\n',
    table: 'gateway',
    key: 'nat_interface',
    value: 'eth0',
    expected: 'gateway.enabled = true\ngateway.nat_interface = "eth0"\n',
    check: (c) => c.gateway.enabled && c.gateway.nat_interface === 'eth0',
  },
  {
    rule: 'replace a key inside an inline table',
    text: 'route = { internet_via_mesh = false }\n',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: 'route = { internet_via_mesh = true }\n',
    check: (c) => c.route.internet_via_mesh,
  },
  {
    rule: 'CRLF line endings are kept on the edited line',
    text: '[route]\r\ninternet_via_mesh = false\r\n[log]\r\nlevel = "info"\r\n',
    table: 'route',
    key: 'internet_via_mesh',
    value: true,
    expected: '[route]\r\ninternet_via_mesh = true\r\n[log]\r\nlevel = "info"\r\n',
    check: (c) => c.route.internet_via_mesh,
  },
];

for (const c of editCases) {
  const body = (t: ExecutionContext): void => {
    // The fixture itself must be a valid config, or the case proves nothing.
    const before = validateConfigText(c.text, FILE, PE);
    t.deepEqual(before.issues, [], 'the input is a valid config');
    const out = setKey(c.text, c.table, c.key, c.value);
    const after = validateConfigText(out, FILE, PE);
    t.deepEqual(after.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`), [], `the result re-validates:\n${out}`);
    t.is(out, c.expected);
    if (after.config !== null) t.true(c.check(after.config), 'the edited value reads back');
  };
  test(`setKey: ${c.rule}`, body);
}

test('setKey: every edit the daemon persists (daemon.ts persist) keeps the rest of a real config byte-for-byte', (t) => {
  // The sequence `pim gateway enable`, `pim gateway disable`, `pim route on`, `pim route off` runs
  // (a gateway never routes its own internet via the mesh, so one is off before the other is on).
  let text = BASE;
  const edits: [table: 'route' | 'gateway', key: string, value: boolean | string][] = [
    ['gateway', 'enabled', true],
    ['gateway', 'nat_interface', 'eth1'],
    ['gateway', 'enabled', false],
    ['route', 'internet_via_mesh', true],
    ['route', 'internet_via_mesh', false],
  ];
  for (const [table, key, value] of edits) {
    text = setKey(text, table, key, value);
    t.deepEqual(validateConfigText(text, FILE, PE).issues, [], `valid after ${table}.${key} = ${String(value)}`);
  }
  t.is(text, replaceLine(BASE, 'nat_interface = "eth0"', 'nat_interface = "eth1"'));
  // The peer's label with a "#" in a string was never touched.
  t.true(text.includes('label = "home # router"'));
});

test('setKey: idempotent — setting the value a key already has changes nothing', (t) => {
  t.is(setKey(BASE, 'route', 'internet_via_mesh', false), BASE);
  t.is(setKey(BASE, 'gateway', 'nat_interface', 'eth0'), BASE);
});
