// `pim config check --json`, `pim config init -o -` and `pim config show`:
// the machine-readable check, the commented defaults on stdout, and the
// config in effect with every default filled in. No daemon needed.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDefaults } from '../ts/config/schema.js';
import { parse } from '../ts/config/toml.js';
import { run, type RunResult } from '../ts/lab/exec.js';

const CLI_JS = path.join(__dirname, '..', 'ts', 'cli.js');

function tempDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pim-cli-config-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment pim runs in: this one without PIM_* and XDG_*, its XDG directories inside `home`. */
function envFor(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_') && !k.startsWith('XDG_')) env[k] = v;
  return { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), XDG_RUNTIME_DIR: path.join(home, 'run') };
}

function pim(home: string, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [CLI_JS, ...args], { env: envFor(home), allowFailure: true, timeoutMs: 60_000 });
}

/** The defaults pim computes in that environment (root's differ from a user's). */
const defaultsFor = (home: string) => buildDefaults({ uid: process.getuid?.() ?? -1, env: envFor(home), homedir: home });

test('pim config check --json: ok with no issues (exit 0), or every issue with line and column (exit 1)', async (t) => {
  const dir = tempDir(t);
  const good = path.join(dir, 'good.toml');
  fs.writeFileSync(good, '[node]\nname = "x"\n');
  const ok = await pim(dir, 'config', 'check', '--json', '-c', good);
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(JSON.parse(ok.stdout), { schema_version: 1, file: good, ok: true, issues: [] });

  const bad = path.join(dir, 'bad.toml');
  fs.writeFileSync(bad, '[node]\nname = "x"\ncolour = "blue"\n\n[interface]\nmtu = "big"\n');
  const r = await pim(dir, 'config', 'check', '--json', '-c', bad);
  t.is(r.code, 1);
  t.is(r.stderr, '', 'the document says it all');
  const doc = JSON.parse(r.stdout) as { ok: boolean; issues: Record<string, unknown>[] };
  t.false(doc.ok);
  t.like(doc.issues, [
    { file: bad, line: 3, column: 1, path: 'node.colour' },
    { file: bad, line: 6, path: 'interface.mtu' },
  ]);
  t.is(doc.issues.length, 2);
});

test('pim config init -o - prints the commented defaults and writes no file', async (t) => {
  const dir = tempDir(t);
  const r = await pim(dir, 'config', 'init', '-o', '-');
  t.is(r.code, 0, r.stderr);
  const file = path.join(dir, 'written.toml');
  t.is((await pim(dir, 'config', 'init', '-o', file)).code, 0);
  t.is(r.stdout, fs.readFileSync(file, 'utf8'), 'the same text `config init -o FILE` writes');
  t.false(fs.existsSync(path.join(dir, 'config', 'pim', 'pim.toml')), 'nothing at the default path');
  t.false(fs.existsSync(path.join(dir, '-')));
});

test('pim config show prints the file with every default filled in, as TOML that pim accepts, and as --json', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'pim.toml');
  fs.writeFileSync(file, '# mine\n[node]\nname = "laptop"\n[transport]\nlisten_port = 9200\n');
  const r = await pim(dir, 'config', 'show', '-c', file);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith(`# the config in effect: ${file} with the defaults filled in\n`), r.stdout);
  const shown = parse(r.stdout) as Record<string, Record<string, unknown>>;
  t.like(shown, {
    node: { name: 'laptop' },
    transport: { listen_port: 9200, bind: '0.0.0.0' },
    interface: { name: 'pim0', mtu: 1420, mesh_ipv4_prefix: '10.77.0.0/16' },
    trust: { mode: 'tofu', store: defaultsFor(dir).trust.store },
    rpc: { socket: defaultsFor(dir).rpc.socket },
    log: { level: 'info' },
  });
  const copy = path.join(dir, 'shown.toml');
  fs.writeFileSync(copy, r.stdout);
  t.is((await pim(dir, 'config', 'check', '-c', copy)).code, 0, 'what show prints is a valid config');

  const json = JSON.parse((await pim(dir, 'config', 'show', '--json', '-c', file)).stdout) as { file: string; exists: boolean; config: Record<string, Record<string, unknown>> };
  t.like(json, { file, exists: true, config: { node: { name: 'laptop' }, transport: { listen_port: 9200 }, interface: { address: null } } });
});

test('pim config show with no config file shows the defaults and says so', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'nowhere.toml');
  const r = await pim(dir, 'config', 'show', '-c', missing);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith(`# the config in effect: no file at ${missing}: these are the defaults\n`), r.stdout);
  t.like(parse(r.stdout), { interface: { name: 'pim0' }, trust: { mode: 'tofu' } });
});

test('pim config show refuses an invalid file rather than showing defaults in its place', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.toml');
  fs.writeFileSync(file, '[trust]\nmode = "everyone"\n');
  const r = await pim(dir, 'config', 'show', '-c', file);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^pim: .*bad\.toml:2:\d+: trust\.mode: /);
});
