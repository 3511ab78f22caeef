// `pim up` runs the daemon in this process; `pim up -d` starts it detached,
// logging to <data dir>/pim-daemon.log, and returns once its socket answers.

import { Command } from 'commander';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataDir } from '../../config/paths.js';
import { runDaemon } from '../../daemon/run.js';
import { PimError } from '../../errors.js';
import { RpcClient } from '../../rpc/client.js';
import { cliContext, configPath, socketPath, type CliContext } from '../context.js';
import { DAEMON_ENV, helpFooter } from '../help.js';

const START_TIMEOUT_MS = 20_000;

export function upCommand(): Command {
  return new Command('up')
    .description('start the daemon: in the foreground, or detached with -d (returns once the control socket answers)')
    .option('-d, --detach', 'run in the background, logging to <data dir>/pim-daemon.log')
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim up', 'sudo pim up -d -c /etc/pim/pim.toml'] }))
    .action(async (opts: { detach?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      if (!opts.detach) {
        await runDaemon(configPath(ctx), ctx.pathEnv, 'pim');
        return new Promise<never>(() => undefined); // the daemon exits the process
      }
      process.exitCode = await startDetached(ctx);
    });
}

async function startDetached(ctx: CliContext): Promise<number> {
  const file = configPath(ctx);
  const socket = await socketPath(ctx);
  const logPath = path.join(dataDir(ctx.pathEnv), 'pim-daemon.log');
  await fs.promises.mkdir(path.dirname(logPath), { recursive: true, mode: 0o700 });
  const log = fs.openSync(logPath, 'a', 0o600);
  const daemonMain = path.join(__dirname, '..', '..', 'main.js');
  const child = spawn(process.execPath, [daemonMain, '-c', file], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      throw new PimError('engine_failed', `the daemon exited during start (code ${exited}): ${lastLine(logPath)}`, { hint: `see ${logPath}` });
    }
    try {
      const client = await RpcClient.connect(socket, { client: 'pim-cli', timeoutMs: 1000 });
      // The socket answers a moment before the engine is up; "started" means up.
      const up = ((await client.call('status')) as { interface: { up: boolean } }).interface.up;
      await client.close();
      if (!up) throw new Error('starting');
      child.unref();
      process.stdout.write(`pim: daemon started (pid ${child.pid}); logs in ${logPath}\n`);
      return 0;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGTERM');
  throw new PimError('engine_failed', `the daemon did not answer on ${socket} within ${START_TIMEOUT_MS / 1000} s`, { hint: `see ${logPath}` });
}

/** The daemon's own words about why it stopped: its last stderr or log line. */
function lastLine(logPath: string): string {
  const lines = fs.readFileSync(logPath, 'utf8').trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  try {
    return (JSON.parse(last) as { msg?: string }).msg ?? last;
  } catch {
    return last;
  }
}
