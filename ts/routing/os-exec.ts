// How the OS layer (os-routes.ts, os-killswitch.ts, os-dns.ts) runs the
// system's network tools: by absolute PATH, in their own process group, with
// a timeout, and with every interface name checked before it reaches a
// command line or a ruleset.

import { spawn } from 'node:child_process';
import { PimError } from '../errors.js';
import { interfaceNameProblem } from '../net/ifname.js';

// The system's own tools, whatever PATH the daemon inherited: under npm,
// node_modules/.bin comes first and holds an unrelated program named `nft`.
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const COMMAND_TIMEOUT_MS = 10_000;

export function sh(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group: a Ctrl-C or a signal sent to the daemon's group
    // must not kill an nft or ip half way (the daemon decides when to stop).
    const child = spawn(cmd, args, { env: { ...process.env, PATH: SYSTEM_PATH }, detached: true, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    const what = `${cmd} ${args.join(' ')}`;
    child.on('error', (err) => {
      clearTimeout(timer);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new PimError('io_failed', missing ? `${cmd} is not installed` : `${what} failed: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new PimError('io_failed', `${what} failed (${signal ? `killed by ${signal}` : `exit ${String(code)}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    if (child.stdin) {
      // A command that exits without reading its input (it failed first) is reported by 'close', not as EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** Every interface name reaches `ip` and `nft` through here: a bad one never becomes part of a command or a ruleset. */
export function ifname(name: string): string {
  const problem = interfaceNameProblem(name);
  if (problem !== null) throw new PimError('invalid_params', `refusing to configure the network: ${problem}`);
  return name;
}

/** True when the command succeeded; for removals of what may not be there. */
export const quiet = async (p: Promise<unknown>): Promise<boolean> => p.then(() => true, () => false);
