// writeFileAtomic (ts/fs/atomic.ts), which saves the config and the trust
// store: a process killed in the middle of a write leaves the old content
// whole (never half-written or empty); a normal write replaces the content,
// gives the file the requested mode and leaves no temp file.

import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../ts/fs/atomic.js';
import { tempDir } from './helpers/tmp.js';

// Files are created under the umask; fix it to the usual default so the
// mode checks mean the same on every machine.
process.umask(0o022);

/** The compiled module under test (dist/test → dist/ts). */
const ATOMIC_JS = path.join(__dirname, '..', 'ts', 'fs', 'atomic.js');

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runNode(script: string, args: string[], timeoutMs = 20_000): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not finish within ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/**
 * Calls writeFileAtomic in a child whose rename() kills the process: the
 * crash lands after the new content is written and synced, just before it
 * would replace the target ('rename'), or before the sync ('sync'); 'none'
 * lets the write finish.
 */
const CRASH_SCRIPT = `
const fs = require('node:fs');
const [atomicJs, target, phase, size] = process.argv.slice(1);
const { writeFileAtomic } = require(atomicJs);
const die = () => { process.kill(process.pid, 'SIGKILL'); return new Promise(() => {}); };
if (phase === 'rename') fs.promises.rename = die;
if (phase === 'sync') {
  // Kill between writing the temp file and syncing it.
  const open = fs.promises.open;
  fs.promises.open = async (...a) => {
    const h = await open(...a);
    h.sync = die;
    return h;
  };
}
const data = Buffer.alloc(Number(size), 'N');
writeFileAtomic(target, data, 0o600).then(
  () => { console.log('RETURNED'); process.exit(0); },
  (err) => { console.log('FAILED ' + err.message); process.exit(2); },
);
`;

for (const phase of ['rename', 'sync'] as const) {
  test(`a process killed during writeFileAtomic (at ${phase}) leaves the target with exactly the old content`, async (t) => {
    const dir = tempDir(t);
    const target = path.join(dir, 'pim.toml');
    const OLD = '# the old config\n[node]\nname = "old"\n'.repeat(50);
    fs.writeFileSync(target, OLD, { mode: 0o600 });
    const size = 256 * 1024;
    const exit = await runNode(CRASH_SCRIPT, [ATOMIC_JS, target, phase, String(size)]);
    t.is(exit.signal, 'SIGKILL', `the child died by SIGKILL (output: ${exit.output})`);
    t.false(exit.output.includes('RETURNED'));
    const now = fs.readFileSync(target, 'utf8');
    t.is(now.length, OLD.length, 'not truncated, not half-written');
    t.is(now, OLD, 'exactly the old content');
    t.is(fs.statSync(target).mode & 0o777, 0o600);
    // A leftover temp file is allowed after a crash, but it is never the target.
    const leftovers = fs.readdirSync(dir).filter((f) => f !== 'pim.toml');
    t.true(leftovers.every((f) => f.startsWith('.pim.toml.') && f.endsWith('.tmp')), JSON.stringify(leftovers));
    if (phase === 'rename') {
      // The crash came after the temp file was written and synced: it is whole.
      t.is(leftovers.length, 1);
      t.is(fs.statSync(path.join(dir, leftovers[0]!)).size, size);
    }
  });
}

test('a process killed during writeFileAtomic to a new file leaves no target at all (never an empty one)', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'trust.json');
  const exit = await runNode(CRASH_SCRIPT, [ATOMIC_JS, target, 'rename', '1024']);
  t.is(exit.signal, 'SIGKILL', exit.output);
  t.false(fs.existsSync(target));
});

test('without a crash the same child script replaces the content (the harness itself works)', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'pim.toml');
  fs.writeFileSync(target, 'OLD');
  const exit = await runNode(CRASH_SCRIPT, [ATOMIC_JS, target, 'none', '4096']);
  t.is(exit.code, 0, exit.output);
  t.regex(exit.output, /RETURNED/);
  t.is(fs.readFileSync(target, 'utf8'), 'N'.repeat(4096));
});

test('writeFileAtomic replaces the content, sets the requested mode, leaves no temp file', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'pim.toml');
  fs.writeFileSync(target, 'OLD CONTENT', { mode: 0o644 });
  const inode = fs.statSync(target).ino;
  await writeFileAtomic(target, 'new = "content"\n', 0o600);
  t.is(fs.readFileSync(target, 'utf8'), 'new = "content"\n');
  t.is(fs.statSync(target).mode & 0o777, 0o600);
  t.not(fs.statSync(target).ino, inode, 'a new file renamed into place');
  t.deepEqual(fs.readdirSync(dir), ['pim.toml']);

  await writeFileAtomic(target, Buffer.from('bytes\n'), 0o640);
  t.is(fs.readFileSync(target, 'utf8'), 'bytes\n');
  t.is(fs.statSync(target).mode & 0o777, 0o640);
  t.deepEqual(fs.readdirSync(dir), ['pim.toml']);
});

test('writeFileAtomic creates a missing file with the requested mode', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'trust.json');
  await writeFileAtomic(target, '{}\n', 0o600);
  t.is(fs.readFileSync(target, 'utf8'), '{}\n');
  t.is(fs.statSync(target).mode & 0o777, 0o600);
  t.deepEqual(fs.readdirSync(dir), ['trust.json']);
});

test('a failed writeFileAtomic (missing directory) throws and leaves nothing behind', async (t) => {
  const dir = tempDir(t);
  await t.throwsAsync(writeFileAtomic(path.join(dir, 'nope', 'pim.toml'), 'x', 0o600), { message: /cannot write/ });
  t.deepEqual(fs.readdirSync(dir), []);
});

test('a failed rename keeps the old content and removes the temp file', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'pim.toml');
  // A directory in the way: rename(file, dir) fails with EISDIR.
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'inside'), 'x');
  await t.throwsAsync(writeFileAtomic(target, 'new', 0o600), { message: /cannot write/ });
  t.deepEqual(fs.readdirSync(dir), ['pim.toml']);
  t.true(fs.statSync(target).isDirectory());
});

// Under umask 022 a requested group-writable mode comes out 0640.
test('writeFileAtomic gives the file exactly the requested mode, whatever the umask (0660)', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'pim.toml');
  fs.writeFileSync(target, 'OLD');
  fs.chmodSync(target, 0o660);
  await writeFileAtomic(target, 'NEW', 0o660);
  t.is(fs.statSync(target).mode & 0o777, 0o660);
});
