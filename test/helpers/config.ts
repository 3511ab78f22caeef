// The config text the CLI tests start from: valid, discovery off, any free
// UDP port, and every path inside the test's own directory.

import * as path from 'node:path';

export interface TestConfigOptions {
  name: string;
  keyFile?: string;
  socket?: string;
  /** TOML appended after the [rpc] table. */
  extra?: string;
}

export function testConfigText(dir: string, opts: TestConfigOptions): string {
  return `[node]
name = ${JSON.stringify(opts.name)}

[security]
key_file = ${JSON.stringify(opts.keyFile ?? path.join(dir, 'node.key'))}

[transport]
listen_port = 0

[discovery]
enabled = false

[trust]
store = ${JSON.stringify(path.join(dir, 'trust.json'))}

[rpc]
socket = ${JSON.stringify(opts.socket ?? path.join(dir, 'pim.sock'))}
${opts.extra ?? ''}`;
}
