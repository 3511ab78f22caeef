import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PathEnv } from '../ts/config/paths.js';
import { buildDefaults, type Config } from '../ts/config/schema.js';
import { formatIssue, validateConfigText } from '../ts/config/validate.js';

// Each case: a config document (inline lines or a fixture file) and the exact
// list of issues it must produce, as [line, column, path, message substring].
// Named by the rule the case checks.

const FIXTURES = path.join(__dirname, '../../test/fixtures/config');
const FILE = '/etc/pim/pim.toml';
const PE: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };
const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);
const ID_A = '0123456789abcdef0123456789abcdef';

type Expected = [line: number, column: number, path: string, message: string];
interface Case {
  rule: string;
  doc: string[] | { fixture: string };
  issues: Expected[];
}

const peer = (...extra: string[]): string[] => ['[[peers]]', `address = "192.0.2.7:9100"`, `public_key = "${KEY_A}"`, ...extra];
const peerAt = (address: string): string[] => ['[[peers]]', `address = "${address}"`, `public_key = "${KEY_A}"`];
const peerKey = (key: string): string[] => ['[[peers]]', 'address = "192.0.2.7:9100"', `public_key = "${key}"`];

const cases: Case[] = [
  // Syntax
  { rule: 'TOML syntax error is one issue at the parser position', doc: { fixture: 'syntax-error.toml' }, issues: [[3, 16, '(toml)', 'invalid TOML: ']] },
  { rule: 'duplicate key is a syntax error', doc: ['[log]', 'level = "info"', 'level = "warn"'], issues: [[3, 1, '(toml)', 'invalid TOML: trying to redefine']] },

  // Unknown keys
  { rule: 'unknown table', doc: ['[nodes]', 'name = "x"'], issues: [[1, 1, 'nodes', 'unknown key "nodes"; the top level accepts: node, security, interface']] },
  { rule: 'unknown key in a section', doc: ['[transport]', 'listen_prot = 9100'], issues: [[2, 1, 'transport.listen_prot', 'unknown key "listen_prot"; [transport] accepts: listen_port, bind']] },
  { rule: 'unknown key in a [[peers]] entry', doc: peer('lable = "x"'), issues: [[4, 1, 'peers[0].lable', 'a [[peers]] entry accepts: address, public_key, label']] },
  { rule: 'unknown dotted key', doc: ['interface.colour = "red"'], issues: [[1, 1, 'interface.colour', 'unknown key "colour"']] },
  { rule: 'unknown root key', doc: ['verbose = true'], issues: [[1, 1, 'verbose', 'unknown key "verbose"']] },

  // Wrong types
  { rule: 'string where an integer belongs', doc: ['[interface]', 'mtu = "1420"'], issues: [[2, 1, 'interface.mtu', 'expected an integer, got a string ("1420")']] },
  { rule: 'float where an integer belongs', doc: ['[interface]', 'mtu = 1420.0'], issues: [[2, 1, 'interface.mtu', 'expected an integer, got a float (1420.0)']] },
  { rule: 'string where a boolean belongs', doc: ['[discovery]', 'enabled = "yes"'], issues: [[2, 1, 'discovery.enabled', 'expected true or false, got a string ("yes")']] },
  { rule: 'date-time where a boolean belongs', doc: ['[route]', 'internet_via_mesh = 2024-01-01T00:00:00Z'], issues: [[2, 1, 'route.internet_via_mesh', 'expected true or false, got a date-time']] },
  { rule: 'integer where a string belongs', doc: ['[node]', 'name = 42'], issues: [[2, 1, 'node.name', 'expected a string, got an integer (42)']] },
  { rule: 'string where an array belongs', doc: ['[trust]', `allow_list = "${ID_A}"`], issues: [[2, 1, 'trust.allow_list', 'expected an array of node_ids, got a string']] },
  { rule: 'non-string allow_list entry', doc: ['[trust]', 'allow_list = [1]'], issues: [[2, 15, 'trust.allow_list[0]', 'expected a string, got an integer (1)']] },
  { rule: 'scalar where a table belongs', doc: ['log = "info"'], issues: [[1, 1, 'log', 'expected a table ([log]), got a string ("info")']] },
  { rule: '[peers] instead of [[peers]]', doc: ['[peers]', 'address = "192.0.2.7:9100"'], issues: [[1, 1, 'peers', 'expected [[peers]] tables (note the double brackets), got a table']] },

  // route
  {
    rule: 'a gateway cannot route its own internet via the mesh',
    doc: ['[gateway]', 'enabled = true', 'nat_interface = "eth0"', '[route]', 'internet_via_mesh = true'],
    issues: [[5, 1, 'route.internet_via_mesh', 'a gateway cannot route its own internet via the mesh (its kill-switch would block what it forwards for its clients); set [gateway] enabled or this to false']],
  },
  { rule: 'lockdown is a boolean', doc: ['[route]', 'lockdown = "yes"'], issues: [[2, 1, 'route.lockdown', 'expected true or false, got a string ("yes")']] },
  { rule: 'dns is an array', doc: ['[route]', 'dns = "9.9.9.9"'], issues: [[2, 1, 'route.dns', 'expected an array of IPv4 addresses, e.g. ["9.9.9.9"], got a string ("9.9.9.9")']] },
  { rule: 'dns entry not an address', doc: ['[route]', 'dns = ["dns.quad9.net"]'], issues: [[2, 8, 'route.dns[0]', 'expected an IPv4 address like "9.9.9.9", got "dns.quad9.net"']] },
  { rule: 'dns entry IPv6', doc: ['[route]', 'dns = ["2620:fe::fe"]'], issues: [[2, 8, 'route.dns[0]', '"2620:fe::fe" is an IPv6 address; IPv6 is blocked while routing via the mesh, so list IPv4 resolvers']] },
  { rule: 'dns entry twice', doc: ['[route]', 'dns = ["9.9.9.9", "9.9.9.9"]'], issues: [[2, 19, 'route.dns[1]', 'duplicate resolver, already listed as route.dns[0]']] },
  { rule: 'more than 3 dns entries', doc: ['[route]', 'dns = ["9.9.9.9", "1.1.1.1", "8.8.8.8", "9.9.9.10"]'], issues: [[2, 1, 'route.dns', 'at most 3 resolvers (the system resolver reads no more), got 4']] },

  // interface
  { rule: 'mtu below 576', doc: ['[interface]', 'mtu = 575'], issues: [[2, 1, 'interface.mtu', 'must be between 576 and 9000, got 575 (1420 suits most links)']] },
  { rule: 'mtu above 9000', doc: ['[interface]', 'mtu = 9001'], issues: [[2, 1, 'interface.mtu', 'got 9001']] },
  { rule: 'interface name longer than 15', doc: ['[interface]', 'name = "pim0123456789abc"'], issues: [[2, 1, 'interface.name', 'expected an interface name of 1 to 15 letters, digits, "_", "." or "-", got "pim0123456789abc"']] },
  { rule: 'interface name with a space', doc: ['[interface]', 'name = "pim 0"'], issues: [[2, 1, 'interface.name', 'got "pim 0"']] },
  { rule: 'empty interface name', doc: ['[interface]', 'name = ""'], issues: [[2, 1, 'interface.name', 'got ""']] },
  { rule: 'interface name "."', doc: ['[interface]', 'name = "."'], issues: [[2, 1, 'interface.name', 'got "."']] },
  { rule: 'mesh prefix without a length', doc: ['[interface]', 'mesh_ipv4_prefix = "10.77.0.0"'], issues: [[2, 1, 'interface.mesh_ipv4_prefix', 'expected an IPv4 prefix like "10.77.0.0/16", got "10.77.0.0"']] },
  { rule: 'mesh prefix with host bits', doc: ['[interface]', 'mesh_ipv4_prefix = "10.77.1.0/16"'], issues: [[2, 1, 'interface.mesh_ipv4_prefix', 'host bits are set; did you mean "10.77.0.0/16"?']] },
  { rule: 'mesh prefix shorter than /8', doc: ['[interface]', 'mesh_ipv4_prefix = "10.0.0.0/7"'], issues: [[2, 1, 'interface.mesh_ipv4_prefix', 'prefix length must be between /8 and /30, got /7']] },
  { rule: 'mesh prefix longer than /30', doc: ['[interface]', 'mesh_ipv4_prefix = "10.77.0.0/31"'], issues: [[2, 1, 'interface.mesh_ipv4_prefix', 'got /31']] },
  { rule: 'address not a CIDR', doc: ['[interface]', 'address = "10.77.3.9"'], issues: [[2, 1, 'interface.address', 'expected an IPv4 address with prefix length like "10.77.3.9/16", got "10.77.3.9"']] },
  { rule: 'address outside the mesh prefix', doc: ['[interface]', 'address = "10.78.0.1/16"'], issues: [[2, 1, 'interface.address', '10.78.0.1 is outside mesh_ipv4_prefix 10.77.0.0/16']] },
  { rule: 'address prefix length differs from the mesh', doc: ['[interface]', 'address = "10.77.3.9/24"'], issues: [[2, 1, 'interface.address', 'prefix length must equal that of mesh_ipv4_prefix 10.77.0.0/16; write "10.77.3.9/16"']] },
  { rule: 'address is the network address', doc: ['[interface]', 'address = "10.77.0.0/16"'], issues: [[2, 1, 'interface.address', '10.77.0.0 is the network address of 10.77.0.0/16']] },
  { rule: 'address is the broadcast address', doc: ['[interface]', 'address = "10.77.255.255/16"'], issues: [[2, 1, 'interface.address', '10.77.255.255 is the broadcast address of 10.77.0.0/16']] },
  { rule: 'address checked against the configured prefix', doc: ['[interface]', 'mesh_ipv4_prefix = "10.99.0.0/24"', 'address = "10.77.3.9/16"'], issues: [[3, 1, 'interface.address', 'outside mesh_ipv4_prefix 10.99.0.0/24']] },
  { rule: 'an invalid mesh prefix is reported once, not again on the address', doc: ['[interface]', 'mesh_ipv4_prefix = "10.77.1.0/16"', 'address = "10.78.0.0/8"'], issues: [[2, 1, 'interface.mesh_ipv4_prefix', 'host bits']] },

  // transport, discovery
  { rule: 'listen_port negative', doc: ['[transport]', 'listen_port = -1'], issues: [[2, 1, 'transport.listen_port', 'must be between 0 and 65535, got -1 (0 picks any free port)']] },
  { rule: 'listen_port above 65535', doc: ['[transport]', 'listen_port = 65536'], issues: [[2, 1, 'transport.listen_port', 'got 65536']] },
  { rule: 'bind not IPv4: IPv6', doc: ['[transport]', 'bind = "::"'], issues: [[2, 1, 'transport.bind', 'expected an IPv4 address like "0.0.0.0" (all interfaces), got "::"']] },
  { rule: 'bind not IPv4: a name', doc: ['[transport]', 'bind = "localhost"'], issues: [[2, 1, 'transport.bind', 'got "localhost"']] },
  { rule: 'discovery port 0', doc: ['[discovery]', 'port = 0'], issues: [[2, 1, 'discovery.port', 'must be between 1 and 65535, got 0']] },
  { rule: 'discovery port above 65535', doc: ['[discovery]', 'port = 65536'], issues: [[2, 1, 'discovery.port', 'got 65536']] },
  { rule: 'interval_s 0', doc: ['[discovery]', 'interval_s = 0'], issues: [[2, 1, 'discovery.interval_s', 'must be between 1 and 3600 seconds, got 0']] },
  { rule: 'interval_s above an hour', doc: ['[discovery]', 'interval_s = 3601'], issues: [[2, 1, 'discovery.interval_s', 'got 3601']] },

  // trust
  { rule: 'unknown trust mode', doc: ['[trust]', 'mode = "TOFU"'], issues: [[2, 1, 'trust.mode', 'must be one of "tofu", "allow_list", "allow_all", got "TOFU"']] },
  { rule: 'allow_list entry of the wrong length', doc: ['[trust]', 'allow_list = ["0123"]'], issues: [[2, 15, 'trust.allow_list[0]', 'expected a node_id of 32 lowercase hex characters (as `pim id` prints it on that node), got 4 characters']] },
  { rule: 'allow_list entry with non-hex characters', doc: ['[trust]', `allow_list = ["${'z'.repeat(32)}"]`], issues: [[2, 15, 'trust.allow_list[0]', 'got characters that are not hex digits']] },
  { rule: 'allow_list entry in uppercase', doc: ['[trust]', `allow_list = ["${ID_A.toUpperCase()}"]`], issues: [[2, 15, 'trust.allow_list[0]', `a node_id must be lowercase hex; write "${ID_A}"`]] },
  { rule: 'duplicate allow_list entry', doc: ['[trust]', 'allow_list = [', `  "${ID_A}",`, `  "${ID_A}",`, ']'], issues: [[4, 3, 'trust.allow_list[1]', 'duplicate node_id, already listed as trust.allow_list[0]']] },

  // peers
  { rule: 'peer without address', doc: ['[[peers]]', `public_key = "${KEY_A}"`], issues: [[1, 1, 'peers[0].address', 'missing required key "address" (host:port, e.g. "192.0.2.7:9100")']] },
  { rule: 'peer without public_key', doc: ['[[peers]]', 'address = "192.0.2.7:9100"'], issues: [[1, 1, 'peers[0].public_key', 'missing required key "public_key"']] },
  { rule: 'peer address without a port', doc: peerAt('192.0.2.7'), issues: [[2, 1, 'peers[0].address', 'expected host:port like "192.0.2.7:9100" or "gw.example.net:9100", got "192.0.2.7"']] },
  { rule: 'peer port 0', doc: peerAt('192.0.2.7:0'), issues: [[2, 1, 'peers[0].address', 'the port must be a number from 1 to 65535, got "0"']] },
  { rule: 'peer port above 65535', doc: peerAt('192.0.2.7:65536'), issues: [[2, 1, 'peers[0].address', 'got "65536"']] },
  { rule: 'peer host neither IPv4 nor DNS', doc: peerAt('bad_host!:9100'), issues: [[2, 1, 'peers[0].address', '"bad_host!" is neither an IPv4 address nor a valid DNS name']] },
  { rule: 'peer host a bad IPv4 literal', doc: peerAt('300.1.1.1:9100'), issues: [[2, 1, 'peers[0].address', '"300.1.1.1" is not a valid IPv4 address']] },
  { rule: 'peer host IPv6', doc: peerAt('[::1]:9100'), issues: [[2, 1, 'peers[0].address', 'IPv6 endpoints are not supported; use an IPv4 address or a DNS name']] },
  { rule: 'public key in uppercase', doc: peerKey(KEY_A.toUpperCase()), issues: [[3, 1, 'peers[0].public_key', `a public key must be lowercase hex; write "${KEY_A}"`]] },
  { rule: 'public key too short', doc: peerKey(KEY_A.slice(1)), issues: [[3, 1, 'peers[0].public_key', 'expected a public key of 64 lowercase hex characters (the x25519_pubkey that `pim id` prints on that peer), got 63 characters']] },
  { rule: 'public key not hex', doc: peerKey('g'.repeat(64)), issues: [[3, 1, 'peers[0].public_key', 'got characters that are not hex digits']] },
  { rule: 'public key all zeros (a low-order point)', doc: peerKey('0'.repeat(64)), issues: [[3, 1, 'peers[0].public_key', 'is a low-order X25519 point']] },
  {
    rule: 'public key of order 8, top bit set (X25519 ignores it)',
    doc: peerKey('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880'),
    issues: [[3, 1, 'peers[0].public_key', 'is a low-order X25519 point']],
  },
  { rule: 'public key p (the field prime)', doc: peerKey(`ed${'f'.repeat(60)}7f`), issues: [[3, 1, 'peers[0].public_key', 'is a low-order X25519 point']] },
  { rule: 'empty label', doc: peer('label = ""'), issues: [[4, 1, 'peers[0].label', 'a label must not be empty']] },
  { rule: 'label longer than 64', doc: peer(`label = "${'x'.repeat(65)}"`), issues: [[4, 1, 'peers[0].label', 'a label must be at most 64 characters, got 65']] },
  { rule: 'label with a control character', doc: peer('label = "a\\tb"'), issues: [[4, 1, 'peers[0].label', 'a label may contain only printable characters']] },
  {
    rule: 'two peers with the same public key',
    doc: [...peer(), '[[peers]]', 'address = "192.0.2.8:9100"', `public_key = "${KEY_A}"`],
    issues: [[6, 1, 'peers[1].public_key', 'peers[0] has the same public_key; list each peer once']],
  },
  {
    rule: 'two peers with the same label',
    doc: [...peer('label = "gw"'), '[[peers]]', 'address = "192.0.2.8:9100"', `public_key = "${KEY_B}"`, 'label = "gw"'],
    issues: [[8, 1, 'peers[1].label', 'peers[0] has the same label; labels must be unique']],
  },
  { rule: 'peers entry that is not a table', doc: ['peers = [1]'], issues: [[1, 1, 'peers', 'expected [[peers]] tables (note the double brackets), got an array']] },

  // gateway, log, node, files, rpc
  { rule: 'invalid nat_interface', doc: ['[gateway]', 'nat_interface = "eth 0"'], issues: [[2, 1, 'gateway.nat_interface', 'expected an interface name of 1 to 15 letters']] },
  { rule: 'unknown log level', doc: ['[log]', 'level = "verbose"'], issues: [[2, 1, 'log.level', 'must be one of "trace", "debug", "info", "warn", "error", "fatal", got "verbose"']] },
  { rule: 'empty node name', doc: ['[node]', 'name = ""'], issues: [[2, 1, 'node.name', 'the node name must not be empty']] },
  { rule: 'node name with a newline', doc: ['[node]', 'name = "a\\nb"'], issues: [[2, 1, 'node.name', 'the node name may contain only printable characters']] },
  { rule: 'empty key_file', doc: ['[security]', 'key_file = ""'], issues: [[2, 1, 'security.key_file', 'must not be empty; remove the line to use the default (/home/test/.local/share/pim/node.key)']] },
  { rule: 'empty trust store', doc: ['[trust]', 'store = ""'], issues: [[2, 1, 'trust.store', 'must not be empty; remove the line to use the default (/home/test/.local/share/pim/trust.json)']] },
  { rule: 'socket path too long for a Unix socket', doc: ['[rpc]', `socket = "/${'s'.repeat(110)}"`], issues: [[2, 1, 'rpc.socket', 'the socket path is 111 bytes long; a Unix socket path may have at most 107']] },

  // Whole files
  {
    rule: 'every issue in a file is reported, in file order',
    doc: { fixture: 'multiple-issues.toml' },
    issues: [
      [3, 1, 'interface.mtu', 'got 100000'],
      [4, 1, 'interface.colour', 'unknown key "colour"'],
      [7, 1, 'transport.listen_port', 'expected an integer, got a string ("9100")'],
      [10, 1, 'peers[0].address', 'expected host:port'],
      [11, 1, 'peers[0].public_key', 'must be lowercase hex'],
      [13, 1, 'peers[1].address', 'missing required key "address"'],
      [13, 1, 'peers[1].public_key', 'missing required key "public_key"'],
      [17, 1, 'log.level', 'got "verbose"'],
    ],
  },
  { rule: 'a fully valid file has no issues', doc: { fixture: 'valid.toml' }, issues: [] },
];

// Boundary values and forms that must be accepted.
const accepted: Array<[rule: string, lines: string[]]> = [
  ['empty file', []],
  ['mtu 576', ['[interface]', 'mtu = 576']],
  ['mtu 9000', ['[interface]', 'mtu = 9000']],
  ['listen_port 0 (any free port)', ['[transport]', 'listen_port = 0']],
  ['discovery port 1 and interval_s 1', ['[discovery]', 'port = 1', 'interval_s = 1']],
  ['interval_s 3600', ['[discovery]', 'interval_s = 3600']],
  ['mesh prefix /8', ['[interface]', 'mesh_ipv4_prefix = "10.0.0.0/8"']],
  ['mesh prefix /30 with its first host', ['[interface]', 'mesh_ipv4_prefix = "10.77.0.0/30"', 'address = "10.77.0.1/30"']],
  ['interface name of 15 characters', ['[interface]', 'name = "a_b.c-d01234567"']],
  ['peer by DNS name', peerAt('gw.example.net:9100')],
  ['peer by single-label name', peerAt('localhost:1')],
  ['peer with the highest port', peerAt('192.0.2.7:65535')],
  ['label of 64 characters', peer(`label = "${'x'.repeat(64)}"`)],
  ['label with non-ASCII text', peer('label = "café ☕"')],
  ['peers as an array of inline tables', [`peers = [{ address = "192.0.2.7:9100", public_key = "${KEY_A}" }]`]],
  ['rpc.socket empty', ['[rpc]', 'socket = ""']],
];

function docText(doc: Case['doc']): string {
  return Array.isArray(doc) ? doc.join('\n') + '\n' : fs.readFileSync(path.join(FIXTURES, doc.fixture), 'utf8');
}

for (const { rule, doc, issues: expected } of cases) {
  test(`validate: ${rule}`, (t) => {
    const { config, issues } = validateConfigText(docText(doc), FILE, PE);
    const actual = issues.map((i) => [i.line, i.column, i.path, i.message]);
    t.is(actual.length, expected.length, `issues: ${JSON.stringify(actual, null, 1)}`);
    expected.forEach(([line, column, p, message], n) => {
      const [aLine, aColumn, aPath, aMessage] = actual[n] ?? [];
      t.deepEqual([aLine, aColumn, aPath], [line, column, p], `issue ${n}: ${String(aMessage)}`);
      t.true(String(aMessage).includes(message), `issue ${n}: ${String(aMessage)} should contain ${message}`);
    });
    t.is(config === null, expected.length > 0);
    t.true(issues.every((i) => i.file === FILE));
  });
}

for (const [rule, lines] of accepted) {
  test(`validate accepts: ${rule}`, (t) => {
    t.deepEqual(validateConfigText(lines.join('\n'), FILE, PE).issues, []);
  });
}

test('validate: an empty file means exactly the defaults', (t) => {
  t.deepEqual(validateConfigText('', FILE, PE).config, buildDefaults(PE));
});

test('validate: every value of a valid file is read, relative paths from the file directory', (t) => {
  const file = path.join(FIXTURES, 'valid.toml');
  const expected: Config = {
    node: { name: 'lab-node' },
    security: { key_file: path.join(FIXTURES, 'keys/node.key') },
    interface: { name: 'pim-lab.0', mtu: 1280, mesh_ipv4_prefix: '10.99.0.0/24', address: '10.99.0.254/24' },
    transport: { listen_port: 0, bind: '198.18.0.1' },
    discovery: { enabled: false, port: 65535, interval_s: 3600 },
    trust: { mode: 'allow_list', allow_list: [ID_A, 'fedcba9876543210fedcba9876543210'], store: '/srv/pim/trust.json' },
    peers: [
      { address: '192.0.2.7:9100', public_key: KEY_A, label: 'home-gw' },
      { address: 'gw-2.example.net:1', public_key: KEY_B, label: null },
    ],
    gateway: { enabled: true, nat_interface: 'eth0', allow_lan: true },
    route: { internet_via_mesh: false, lockdown: true, dns: ['9.9.9.9', '10.77.0.53'] },
    rpc: { socket: path.join(FIXTURES, 'run/pim.sock') },
    log: { level: 'debug' },
  };
  t.deepEqual(validateConfigText(fs.readFileSync(file, 'utf8'), file, PE).config, expected);
});

test('validate: rpc.socket "" means the default socket path', (t) => {
  const pe: PathEnv = { ...PE, env: { XDG_RUNTIME_DIR: '/run/user/1000' } };
  t.is(validateConfigText('[rpc]\nsocket = ""\n', FILE, pe).config?.rpc.socket, '/run/user/1000/pim.sock');
});

test('formatIssue: file:line:col: path: message', (t) => {
  t.is(formatIssue({ file: 'a.toml', line: 3, column: 7, path: 'log.level', message: 'bad' }), 'a.toml:3:7: log.level: bad');
});
