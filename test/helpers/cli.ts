// The compiled programs as a user runs them, for the CLI tests: `pim` and
// `pim-daemon` started as a user whose every default path is inside a temp
// home, two at a time, and the error format every failure must have.

import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testConfigText } from './config.js';
import { limit } from './limit.js';

/** dist/test/helpers → dist/ts */
const CLI = path.join(__dirname, '..', '..', 'ts', 'cli.js');
const DAEMON = path.join(__dirname, '..', '..', 'ts', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user whose every default path is inside `home`, with no PIM_* overrides. */
export function userEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_') && !k.startsWith('XDG_')) env[k] = v;
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_RUNTIME_DIR: path.join(home, 'run'),
  };
}

// Two at a time: a CLI test file starts dozens of processes.
const run = limit(2, (program: string, args: string[], home: string): Promise<Run> => {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [program, ...args], { env: userEnv(home), cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
});

export const pim = (args: string[], home: string): Promise<Run> => run(CLI, args, home);
export const pimDaemon = (args: string[], home: string): Promise<Run> => run(DAEMON, args, home);

/**
 * the CLI's contract (README): an error is one line on stderr starting with the program
 * name, optionally followed by one hint line; never a stack trace.
 */
export function checkErrorOutput(t: ExecutionContext, r: Run, prefix: string): string {
  t.false(r.stderr.includes('    at '), `stack trace on stderr:\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  t.true(r.stderr.endsWith('\n'), JSON.stringify(r.stderr));
  t.true(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith(`${prefix}: hint: `)), r.stderr);
  t.true(lines[0]!.startsWith(`${prefix}: `), r.stderr);
  t.false(lines[0]!.startsWith(`${prefix}: hint: `));
  return lines[0]!;
}

/** A valid config whose every path lies in `dir`. */
export function writeConfig(dir: string, extra = '', name = 'pim.toml'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, testConfigText(dir, { name: 'cli-test', keyFile: path.join(dir, 'keys', 'node.key'), socket: path.join(dir, 'run', 'pim.sock'), extra }));
  return file;
}
