// `pim up` runs the daemon in this process; `pim up -d` starts it detached,
// logging to pim-daemon.log in the data dir, and returns once it is up; if
// it fails instead, this run's error (and hint) is the command's error.

import { Command } from 'commander';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { runDaemon } from '../../daemon/run.js';
import { prettyDestination } from '../../log/pretty.js';
import { PimError } from '../../errors.js';
import { RpcClient } from '../../rpc/client.js';
import { cliContext, configPath, type CliContext } from '../context.js';
import { runLogPath, writeRunMarker } from '../run-log.js';
import { DAEMON_ENV, helpFooter } from '../help.js';

const START_TIMEOUT_MS = 20_000;

export function upCommand(): Command {
  return new Command('up')
    .description('start the daemon: in the foreground (readable logs on a terminal, JSON lines otherwise), or detached with -d')
    .option('-d, --detach', 'run in the background, logging to pim-daemon.log beside the trust store (the data dir by default)')
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim up', 'sudo pim up -d -c /etc/pim/pim.toml'] }))
    .action(async (opts: { detach?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      if (!opts.detach) {
        // Readable lines for a person at a terminal; JSON lines for anything else.
        await runDaemon(configPath(ctx), ctx.pathEnv, 'pim', process.stdout.isTTY ? prettyDestination(process.stdout) : undefined);
        return new Promise<never>(() => undefined); // the daemon exits the process
      }
      process.exitCode = await startDetached(ctx);
    });
}

async function startDetached(ctx: CliContext): Promise<number> {
  const file = configPath(ctx);
  // The daemon would refuse an invalid config; saying so here is the same error, sooner.
  const { config } = await loadConfig(file, ctx.pathEnv);
  const socket = config.rpc.socket;
  const logPath = runLogPath(config);
  await fs.promises.mkdir(path.dirname(logPath), { recursive: true, mode: 0o700 });
  const log = fs.openSync(logPath, 'a', 0o600);
  writeRunMarker(log, file);
  // Where this run's own lines begin: earlier runs' lines are not this run's error.
  const runStart = fs.fstatSync(log).size;
  const daemonMain = path.join(__dirname, '..', '..', 'main.js');
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [daemonMain, '-c', file], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const deadline = spawnedAt + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      reportFailure(logPath, runStart, exited);
      return exited === 0 ? 1 : exited;
    }
    if (await isUpSince(socket, spawnedAt)) {
      child.unref();
      process.stdout.write(`pim: daemon started (pid ${child.pid}); logs in ${logPath}\n`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new PimError('engine_failed', `the daemon did not answer on ${socket} within ${START_TIMEOUT_MS / 1000} s`, { hint: `see ${logPath}` });
}

/**
 * Whether a daemon started at or after `since` answers on the socket with
 * its engine up (the socket answers a moment before). A daemon that was
 * already running answers too, but it is not the one this run started.
 */
async function isUpSince(socket: string, since: number): Promise<boolean> {
  try {
    const client = await RpcClient.connect(socket, { client: 'pim-cli', timeoutMs: 1000 });
    const status = (await client.call('status').finally(() => client.close())) as { interface: { up: boolean }; started_at: string };
    return status.interface.up && Date.parse(status.started_at) >= since;
  } catch {
    return false;
  }
}

/**
 * The daemon's own words about why this run stopped: the error (and hint)
 * it printed on stderr, as `pim: ` lines; else its last log message.
 */
function reportFailure(logPath: string, runStart: number, code: number): void {
  const fd = fs.openSync(logPath, 'r');
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(Math.max(0, size - runStart));
  fs.readSync(fd, buf, 0, buf.length, runStart);
  fs.closeSync(fd);
  const lines = buf.toString('utf8').split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => l.startsWith('pim-daemon: '));
  if (errors.length > 0) {
    for (const l of errors) process.stderr.write(`pim: ${l.slice('pim-daemon: '.length)}\n`);
    return;
  }
  const last = lines.map(logMessage).filter((m) => m !== undefined).pop();
  process.stderr.write(`pim: the daemon exited during start (code ${code})${last === undefined ? '' : `: ${last}`}\npim: hint: see ${logPath}\n`);
}

function logMessage(line: string): string | undefined {
  try {
    return (JSON.parse(line) as { msg?: string }).msg;
  } catch {
    return undefined;
  }
}
