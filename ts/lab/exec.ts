// Promise helpers over child_process for the network lab. Every command the lab
// runs goes through run(), so a failure always names the command line and what
// it printed on stderr.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface RunOptions {
  /** Resolve with the exit code instead of rejecting when it is not zero. */
  allowFailure?: boolean;
  /** Kill the command (SIGKILL) and reject once it has run this long. */
  timeoutMs?: number;
  /** The environment instead of this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code; 128 + the signal number when a signal ended the command, as a shell reports it. */
  code: number;
}

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const line = commandLine(cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      const why = err.code === 'ENOENT' ? `${cmd} is not installed or not on PATH` : err.message;
      reject(new Error(`cannot run \`${line}\`: ${why}`, { cause: err }));
    });
    // 'close' rather than 'exit': it waits until stdout and stderr are drained.
    child.on('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      const result: RunResult = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: exitCode ?? 128 + (signal ? constants.signals[signal] : 0),
      };
      if (timedOut) {
        reject(new Error(`\`${line}\` did not finish within ${opts.timeoutMs} ms and was killed${describeStderr(result.stderr)}`));
      } else if (result.code !== 0 && !opts.allowFailure) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${result.code}`;
        reject(new Error(`\`${line}\` ${how}${describeStderr(result.stderr)}`));
      } else {
        resolve(result);
      }
    });
  });
}

/** Runs a command inside a network namespace (`ip netns exec <ns> cmd ...args`). */
export function inNetns(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

function describeStderr(stderr: string): string {
  const text = stderr.trim();
  return text === '' ? ' (nothing on stderr)' : `: ${text}`;
}
