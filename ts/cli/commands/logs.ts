// `pim logs` prints the daemon's recent log history; `-f` keeps following;
// `--last-run` reads the log file of the last `pim up -d`, which outlives the
// daemon, to show how that run went and why it ended.

import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import { loadConfigOrDefaults } from '../../config/load.js';
import { isPimError, PimError } from '../../errors.js';
import { toEntry } from '../../log/history.js';
import { formatEntry, wantsColour } from '../../log/pretty.js';
import type { RpcClient } from '../../rpc/client.js';
import { WIRE_LOG_LEVELS, type WireLogLevel } from '../../rpc/wire.js';
import { cliContext, configPath, connect, type CliContext } from '../context.js';
import { DAEMON_ENV, helpFooter } from '../help.js';
import { lastRunLines, runLogPath } from '../run-log.js';

interface Entry {
  ts: string;
  level: string;
  message: string;
  peer_id?: string;
}

type Shown = (level: string) => boolean;

export function logsCommand(): Command {
  return new Command('logs')
    .description("print the daemon's recent log lines (oldest first); -f follows new ones")
    .option('-f, --follow', 'keep printing new lines until the daemon stops or Ctrl-C')
    .option('--last-run', 'print the log of the last daemon started with `pim up -d`, running or not (how it ended, why it failed)')
    .addOption(new Option('--level <level>', 'show only lines at this level or above').choices(WIRE_LOG_LEVELS).default('trace'))
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim logs --level warn', 'sudo pim logs -f', 'sudo pim logs --last-run'] }))
    .action(async (opts: { follow?: boolean; lastRun?: boolean; level: WireLogLevel }, cmd: Command) => {
      // The log file has pino's fatal, which the socket sends as error.
      const rank = (level: string): number => WIRE_LOG_LEVELS.indexOf((level === 'fatal' ? 'error' : level) as WireLogLevel);
      const shown: Shown = (level) => rank(level) >= rank(opts.level);
      const ctx = cliContext(cmd);
      if (opts.lastRun) return printLastRun(ctx, shown);
      process.exitCode = await fromDaemon(await connectOrExplain(ctx), opts.follow === true, shown);
    });
}

async function connectOrExplain(ctx: CliContext): Promise<RpcClient> {
  try {
    return await connect(ctx);
  } catch (err) {
    if (!isPimError(err) || err.code !== 'daemon_not_running') throw err;
    throw new PimError('daemon_not_running', err.message, {
      hint: 'how the last run ended: `pim logs --last-run` (after `pim up -d`), or `journalctl -u pim -o cat` (the systemd service)',
      cause: err,
    });
  }
}

async function fromDaemon(client: RpcClient, follow: boolean, shown: Shown): Promise<number> {
  const colour = wantsColour(process.stdout);
  let expected = Infinity;
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    client.onNotification((method, params) => {
      if (method !== 'logs.event') return;
      const e = params as Entry;
      if (shown(e.level)) process.stdout.write(formatEntry(e, colour));
      if (++seen >= expected && !follow) resolve();
    });
  });
  const { replayed } = (await client.call('logs.subscribe')) as { replayed: number };
  expected = replayed;
  if (!follow) {
    if (seen < expected) await done;
    await client.close();
    return 0;
  }
  await client.whenClosed(); // until Ctrl-C, or the daemon stops
  process.stderr.write('pim: the daemon closed the connection\n');
  return 1;
}

async function printLastRun(ctx: CliContext, shown: Shown): Promise<void> {
  const { config } = await loadConfigOrDefaults(ctx.configFlag === undefined ? undefined : configPath(ctx), ctx.pathEnv);
  const file = runLogPath(config);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new PimError('io_failed', `no log of a daemon started with \`pim up -d\` at ${file}: ${(err as Error).message}`, {
      hint: 'a systemd service logs to the journal: `journalctl -u pim -o cat`',
      cause: err,
    });
  }
  const colour = wantsColour(process.stdout);
  for (const line of lastRunLines(text)) {
    let entry: Entry | undefined;
    try {
      entry = toEntry(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // The daemon's stderr (its `pim-daemon: ` error and hint) is in the file too, as it was printed.
      process.stdout.write(`${line}\n`);
      continue;
    }
    if (shown(entry.level)) process.stdout.write(formatEntry(entry, colour));
  }
}
