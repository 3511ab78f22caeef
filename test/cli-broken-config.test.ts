// A config file with mistakes must not lock the CLI out of the daemon that is
// running: the CLI needs only the control socket, so status, peers, logs and
// down still work, with one warning about the file.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, type RunResult } from '../ts/lab/exec.js';
import { testConfigText } from './helpers/config.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';

const CLI_JS = path.join(__dirname, '..', 'ts', 'cli.js');

async function daemon(t: ExecutionContext): Promise<TestDaemon> {
  return startTestDaemon(t, {
    tmpPrefix: 'pim-cli-broken-',
    writeConfig: (dir, file) => fs.writeFileSync(file, testConfigText(dir, { name: 'broken-config-test' })),
    clientName: 'cli-broken-config-test',
  });
}

function pim(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_')) clean[k] = v;
  return run(process.execPath, [CLI_JS, ...args], { allowFailure: true, timeoutMs: 20_000, env: { ...clean, ...env } });
}

const cases: Array<[what: string, breakIt: (text: string) => string, env: (d: TestDaemon) => NodeJS.ProcessEnv, warning: RegExp]> = [
  ['an unknown section', (text) => `${text}\n[colours]\nbackground = "blue"\n`, () => ({}), /pim\.toml:\d+:1: colours: unknown/],
  ['a wrong type', (text) => text.replace('listen_port = 0', 'listen_port = "nine"'), () => ({}), /transport\.listen_port: .*integer/],
  // The [rpc] socket line still parses here, and is used.
  ['a syntax error after [rpc]', (text) => `${text}\n[log\nlevel = "info"\n`, () => ({}), /invalid TOML/],
  // Nothing of the file can be read: the default socket ($PIM_RPC_SOCKET here) is used.
  ['a syntax error before [rpc]', (text) => `name = = "x"\n${text}`, (d) => ({ PIM_RPC_SOCKET: d.socket }), /invalid TOML/],
];

for (const [what, breakIt, env, warning] of cases) {
  test(`with ${what} in the config file, pim status, peers, logs and down still reach the daemon, with one warning`, async (t) => {
    const d = await daemon(t);
    fs.writeFileSync(d.configPath, breakIt(fs.readFileSync(d.configPath, 'utf8')));
    for (const args of [['status', '--json'], ['peers'], ['logs', '--level', 'info'], ['down']]) {
      const r = await pim([...args, '-c', d.configPath], env(d));
      t.is(r.code, 0, `pim ${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      t.is(lines.length, 1, r.stderr);
      t.true(lines[0]!.startsWith(`pim: warning: ${d.configPath}:`), lines[0]);
      t.regex(lines[0]!, warning);
      t.true(lines[0]!.endsWith(`; using the control socket ${d.socket}`), lines[0]);
    }
    t.deepEqual(d.stoppedWith, [0], 'pim down stopped the daemon');
  });
}

test('a valid config gives no warning', async (t) => {
  const d = await daemon(t);
  const r = await pim(['status', '-c', d.configPath]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
});
