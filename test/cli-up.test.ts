// `pim up -d` as a user runs it: it returns once its own daemon is up; when
// its daemon fails instead (another one already runs, a bad key file, a
// corrupt trust store) it prints that run's error and hint and exits 1,
// never an earlier run's line from the shared log.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, type RunResult } from '../ts/lab/exec.js';
import { CLI_JS, prepareNode, rpcCall, writeConfig, type MeshNode } from '../ts/lab/mesh.js';
import type { Lab, Node } from '../ts/lab/netns.js';
import { testConfigText } from './helpers/config.js';
import { labTests } from './helpers/lab.js';
import { tempDir } from './helpers/tmp.js';
import { Tmux } from './helpers/tmux.js';

const labTest = labTests({ prefix: 'cliup' });

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_')) env[k] = v;
  return env;
}

const pimUp = (file: string): Promise<RunResult> =>
  run(process.execPath, [CLI_JS, 'up', '-d', '-c', file], { allowFailure: true, timeoutMs: 40_000, env: cleanEnv() });

/** The two lines of an error with its hint. */
function errorLines(t: ExecutionContext, r: RunResult): [string, string] {
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines.length, 2, r.stderr);
  t.regex(lines[0]!, /^pim: (?!hint: )/);
  t.regex(lines[1]!, /^pim: hint: /);
  return [lines[0]!, lines[1]!];
}

test('pim up -d whose daemon fails to start prints that run\'s error and hint and exits 1', async (t) => {
  const dir = tempDir(t, 'pim-cli-up-');
  const file = path.join(dir, 'pim.toml');
  fs.writeFileSync(file, testConfigText(dir, { name: 'up-test' }));
  const keyFile = path.join(dir, 'node.key');
  fs.writeFileSync(keyFile, Buffer.alloc(32, 3), { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);

  const first = await pimUp(file);
  t.is(first.code, 1, first.stderr);
  t.is(first.stdout, '');
  const [keyError] = errorLines(t, first);
  t.true(keyError.includes(keyFile) && keyError.includes('0644'), keyError);

  // The next run fails for another reason; the log still holds the first.
  fs.chmodSync(keyFile, 0o600);
  fs.writeFileSync(path.join(dir, 'trust.json'), '{ not json');
  const second = await pimUp(file);
  t.is(second.code, 1, second.stderr);
  const [storeError, hint] = errorLines(t, second);
  t.true(storeError.includes(path.join(dir, 'trust.json')), storeError);
  t.false(second.stderr.includes('0644'), 'not the earlier run\'s error');
  t.notRegex(hint, /see .*pim-daemon\.log/, 'the daemon\'s own hint, not a pointer to the log');
  t.regex(fs.readFileSync(path.join(dir, 'pim-daemon.log'), 'utf8'), /0644[^]*trust\.json/, 'both runs are in the log, in order');

  // With no daemon running, pim logs says where to look; --last-run shows the second run alone.
  const logs = await run(process.execPath, [CLI_JS, 'logs', '-c', file], { allowFailure: true, env: cleanEnv() });
  t.is(logs.code, 3);
  t.regex(logs.stderr, /\npim: hint: how the last run ended: `pim logs --last-run`/);
  const last = await run(process.execPath, [CLI_JS, 'logs', '--last-run', '-c', file], { allowFailure: true, env: cleanEnv() });
  t.is(last.code, 0, last.stderr);
  const lines = last.stdout.trimEnd().split('\n');
  t.regex(lines[0] ?? '', /^\S+Z INFO  pim up -d: starting pim-daemon -c /);
  t.true(lines.includes(storeError.replace(/^pim: /, 'pim-daemon: ')), last.stdout);
  t.false(last.stdout.includes('0644'), 'not the earlier run');
});

/** `pim up -d` in the node's namespace; its daemon is stopped when the test ends, however it ends. */
async function upInLab(t: ExecutionContext, lab: Lab, node: Node, m: MeshNode): Promise<RunResult> {
  const r = await lab.exec(node, process.execPath, [CLI_JS, 'up', '-d', '-c', m.configPath], { allowFailure: true, timeoutMs: 40_000, env: cleanEnv() });
  const pid = /\(pid (\d+)\)/.exec(r.stdout)?.[1];
  if (pid !== undefined) {
    t.teardown(() => {
      try {
        process.kill(Number(pid), 'SIGTERM');
      } catch {
        // Already stopped by the test.
      }
    });
  }
  return r;
}

labTest('pim up -d with a daemon already running exits 1 with the second daemon\'s error and hint; the first keeps running', async (t, lab) => {
  const node = await lab.addNode('a');
  const m = await prepareNode(lab, node, { label: 'alpha' });
  writeConfig(m, [], { label: 'alpha' });

  const first = await upInLab(t, lab, node, m);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /^pim: daemon started \(pid \d+\); logs in .*pim-daemon\.log\n$/);
  const before = (await rpcCall(m, 'status')) as { started_at: string; interface: { up: boolean } };
  t.true(before.interface.up);

  const second = await upInLab(t, lab, node, m);
  t.is(second.code, 1, second.stdout + second.stderr);
  t.is(second.stdout, '', 'no "daemon started"');
  const [error, hint] = errorLines(t, second);
  t.is(error, `pim: another pim-daemon is already running on ${m.socketPath}`);
  t.regex(hint, /pim down/);

  const after = (await rpcCall(m, 'status')) as { started_at: string };
  t.is(after.started_at, before.started_at, 'the first daemon still answers');
  const down = await lab.exec(node, process.execPath, [CLI_JS, 'down', '-c', m.configPath], { allowFailure: true, env: cleanEnv() });
  t.is(down.code, 0, down.stderr);
});

labTest('pim up in a terminal logs readable lines and stops on Ctrl-C; piped, it logs JSON lines', async (t, lab) => {
  const node = await lab.addNode('a');
  const m = await prepareNode(lab, node, { label: 'alpha' });
  writeConfig(m, [], { label: 'alpha' });
  const term = await Tmux.start(t, ['ip', 'netns', 'exec', node.ns, process.execPath, CLI_JS, 'up', '-c', m.configPath], { env: cleanEnv() });
  const screen = await term.waitFor(t, 'the daemon to be up', (s) => s.some((l) => / INFO  pim-daemon \S+ up: /.test(l)), 30_000);
  t.false(screen.some((l) => l.startsWith('{')), 'no JSON on the terminal');
  t.true(screen.filter((l) => l !== '').every((l) => /^\d{4}-\d\d-\d\dT\S+Z (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /.test(l)), screen.join('\n'));
  t.regex(await term.screenWithEscapes(), /\x1b\[/, 'coloured');
  await term.send('C-c');
  await term.waitFor(t, 'a clean stop', (s) => s.some((l) => /received SIGINT/.test(l)), 20_000);
  t.is(await term.waitForExit(t), 0, 'pim up exits 0 after Ctrl-C');

  const piped = lab.spawn(node, process.execPath, [CLI_JS, 'up', '-c', m.configPath], { env: { NO_COLOR: '' } });
  await piped.waitForOutput(/"event":"daemon_started"/, 30_000);
  piped.kill('SIGTERM');
  await piped.waitExit(20_000);
  const out = piped.output().trimEnd().split('\n');
  for (const l of out) t.notThrows(() => JSON.parse(l), l);
});

