// The config text the tests start from: valid, discovery off, any free UDP
// port, and every path inside the test's own directory. Options add what a
// test needs; without them the text is the plain one the CLI tests use.

import * as path from 'node:path';

export interface TestConfigPeer {
  address: string;
  publicKey: string;
  label?: string;
}

export interface TestConfigOptions {
  name: string;
  keyFile?: string;
  socket?: string;
  /** [trust] store; `<dir>/trust.json` when absent. */
  trustStore?: string;
  /** [trust] mode; the default when absent. */
  trustMode?: 'tofu' | 'allow_list' | 'allow_all';
  /** An [interface] table: a TUN name no other test uses, and mtu and mesh prefix when given. */
  interface?: { name: string; mtu?: number; meshPrefix?: string };
  /** [transport] bind, e.g. 127.0.0.1 for a daemon beside the developer's own network. */
  bind?: string;
  /** [discovery] enabled; false when absent. */
  discovery?: boolean;
  /** A [log] table with this level, after [rpc]. */
  logLevel?: string;
  /** TOML appended after the [rpc] (and [log]) table. */
  extra?: string;
  /** [[peers]] entries, last. */
  peers?: TestConfigPeer[];
}

export function testConfigText(dir: string, opts: TestConfigOptions): string {
  const iface = opts.interface;
  const lines = (...xs: (string | false | undefined)[]): string => xs.filter((x) => typeof x === 'string').join('\n');
  const peers = (opts.peers ?? []).map((p) => lines('', '[[peers]]', `address = "${p.address}"`, `public_key = "${p.publicKey}"`, p.label !== undefined && `label = "${p.label}"`, ''));
  return `[node]
name = ${JSON.stringify(opts.name)}

[security]
key_file = ${JSON.stringify(opts.keyFile ?? path.join(dir, 'node.key'))}
${iface ? `\n${lines('[interface]', `name = ${JSON.stringify(iface.name)}`, iface.mtu !== undefined && `mtu = ${iface.mtu}`, iface.meshPrefix !== undefined && `mesh_ipv4_prefix = "${iface.meshPrefix}"`)}\n` : ''}
[transport]
listen_port = 0
${opts.bind !== undefined ? `bind = "${opts.bind}"\n` : ''}
[discovery]
enabled = ${opts.discovery ?? false}

[trust]
${opts.trustMode !== undefined ? `mode = "${opts.trustMode}"\n` : ''}store = ${JSON.stringify(opts.trustStore ?? path.join(dir, 'trust.json'))}

[rpc]
socket = ${JSON.stringify(opts.socket ?? path.join(dir, 'pim.sock'))}
${opts.logLevel !== undefined ? `\n[log]\nlevel = "${opts.logLevel}"\n` : ''}${opts.extra ?? ''}${peers.join('')}`;
}
