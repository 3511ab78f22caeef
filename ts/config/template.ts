import type { PathEnv } from './paths.js';
import { buildDefaults, LOG_LEVELS, TRUST_MODES } from './schema.js';

// The file `pim config init` writes. Values come from buildDefaults so the
// template cannot drift from what an empty file means; a test checks that it
// validates and reads back as exactly the defaults.

type Scalar = string | number | boolean | readonly string[];

// Comments start in this column, so the values line up in a terminal.
const COMMENT_COLUMN = 40;

export function renderDefaultConfig(pe: PathEnv): string {
  const d = buildDefaults(pe);
  const lines = [
    '# pim configuration. Every key is shown with its default value; a key',
    '# left out takes the same default. Check edits with `pim config check`.',
    '',
    '[node]',
    entry('name', d.node.name, 'label announced to peers (default: this machine\'s hostname)'),
    '',
    '[security]',
    entry('key_file', d.security.key_file, 'X25519 private key, 32 raw bytes; created 0600 if missing'),
    '',
    '[interface]',
    entry('name', d.interface.name, 'TUN device name, at most 15 characters'),
    entry('mtu', d.interface.mtu, '576..9000'),
    entry('mesh_ipv4_prefix', d.interface.mesh_ipv4_prefix, 'own mesh IP is derived from node_id inside this prefix'),
    example('address', '10.77.3.9/16', 'optional explicit mesh IP: inside the prefix, same length'),
    '',
    '[transport]',
    entry('listen_port', d.transport.listen_port, 'UDP; 0 = any free port'),
    entry('bind', d.transport.bind, 'IPv4 address to listen on; 0.0.0.0 = all'),
    '',
    '[discovery]',
    entry('enabled', d.discovery.enabled, 'LAN broadcast announcements'),
    entry('port', d.discovery.port, 'UDP port of the announcements'),
    entry('interval_s', d.discovery.interval_s, 'seconds between announcements, 1..3600'),
    '',
    '[trust]',
    entry('mode', d.trust.mode, TRUST_MODES.map((m) => `"${m}"`).join(' | ')),
    entry('allow_list', d.trust.allow_list, 'node_ids (32 hex) allowed to pair in allow_list mode'),
    entry('store', d.trust.store, 'TOFU pins, written atomically'),
    '',
    '# Static peers, zero or more: repeat this block once per peer.',
    '# [[peers]]',
    example('address', '192.0.2.7:9100', 'host:port; host is an IPv4 address or a DNS name'),
    example('public_key', '<64 hex>', 'the x25519_pubkey that `pim id` prints on that peer'),
    example('label', 'home-gw', 'optional; unique among peers'),
    '',
    '[gateway]',
    entry('enabled', d.gateway.enabled, 'share this machine\'s internet with the mesh (Linux)'),
    example('nat_interface', 'eth0', 'uplink to masquerade through'),
    entry('allow_lan', d.gateway.allow_lan, 'let peers you trust explicitly reach this host and its LAN (never peers admitted on first use)'),
    '',
    '[route]',
    entry('internet_via_mesh', d.route.internet_via_mesh, 'persisted state of `pim route on|off`'),
    entry('lockdown', d.route.lockdown, 'keep internet blocked while pim is stopped too; only `pim route off` lifts it'),
    entry('dns', d.route.dns, 'IPv4 resolvers (at most 3) used while routing via the mesh; [] = DNS only through the tunnel'),
    '',
    '[rpc]',
    entry('socket', '', '"" = $PIM_RPC_SOCKET, else /run/pim/pim.sock for root, else $XDG_RUNTIME_DIR/pim.sock, else /run/pim/pim.sock'),
    '',
    '[log]',
    entry('level', d.log.level, LOG_LEVELS.join(' | ')),
  ];
  return lines.join('\n') + '\n';
}

function entry(key: string, value: Scalar, comment: string): string {
  return withComment(`${key} = ${toml(value)}`, comment);
}

/** A key whose default is "unset", shown commented out with a sample value. */
function example(key: string, value: string, comment: string): string {
  return withComment(`# ${key} = ${toml(value)}`, comment);
}

function withComment(code: string, comment: string): string {
  return `${code.padEnd(COMMENT_COLUMN - 2)} # ${comment}`;
}

// JSON string escapes are a subset of TOML basic-string escapes, so JSON text
// is valid TOML for these values.
function toml(value: Scalar): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return String(value);
}
