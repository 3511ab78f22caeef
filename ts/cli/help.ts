// The parts of every command's help that commander does not write itself:
// the environment variables the command reads and an example.

/** What commands that find the daemon through the config read from the environment. */
export const DAEMON_ENV: readonly [string, string][] = [
  ['PIM_CONFIG', 'the config file when -c is not given'],
  ['PIM_RPC_SOCKET', 'the control socket when the config leaves [rpc] socket empty'],
];

/** `pim id` and `pim config` read only the config file. */
export const CONFIG_ENV: readonly [string, string][] = [DAEMON_ENV[0]!];

export interface HelpFooter {
  env: readonly [string, string][];
  examples: readonly string[];
}

export function helpFooter(f: HelpFooter): string {
  const width = Math.max(...f.env.map(([name]) => name.length));
  const lines: string[] = [];
  if (f.env.length > 0) lines.push('', 'Environment:', ...f.env.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`));
  lines.push('', f.examples.length === 1 ? 'Example:' : 'Examples:', ...f.examples.map((e) => `  $ ${e}`));
  return lines.join('\n');
}

export const JSON_OPTION: [string, string] = ['--json', 'print one JSON document (with a schema_version) instead of text'];
