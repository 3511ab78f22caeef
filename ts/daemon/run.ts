// Runs the daemon in this process until a signal or a fatal fault stops it:
// shared by `pim-daemon` and `pim up` (foreground). Errors that prevent the
// start end with one line on stderr and the registry's exit code.
//
// Only SIGTERM, SIGINT and daemon.stop are clean stops. A crash (an engine
// fault, an uncaught exception, an unhandled rejection) exits 1 and leaves
// the kill-switch in the kernel: a daemon in an unknown state must fail
// closed, and the next start takes over (docs/SECURITY.md).

import type { DestinationStream } from 'pino';
import type { PathEnv } from '../config/paths.js';
import { NativeEngine } from '../native/binding.js';
import { printError } from '../report.js';
import { explainStartFailure } from '../start-failures.js';
import { systemNetwork } from '../routing/os-network.js';
import { UdpDiscoveryTransport } from '../discovery/transport.js';
import { notifyReady } from '../systemd/notify.js';
import { Daemon } from './daemon.js';
import { armTestCrash } from './test-crash.js';

/** A crashed daemon's stop may itself hang on the broken state: exit anyway; the block is in the kernel already. */
const CRASH_EXIT_MS = 5000;

/** `logDestination`: where the JSON log lines go (default stdout). */
export async function runDaemon(configPath: string, pathEnv: PathEnv, errorPrefix: string, logDestination?: DestinationStream): Promise<void> {
  // Signals are handled from the first moment: the control socket answers
  // before the engine is up, and a stop or reload may arrive in between.
  let daemon: Daemon | undefined;
  let pendingStop: string | undefined;
  let pendingReload = false;
  const shutdown = (signal: string): void => {
    if (!daemon) {
      pendingStop = signal;
      return;
    }
    daemon.logger.info({ event: 'signal', signal }, `received ${signal}, shutting down`);
    void daemon.stop().then(() => process.exit(0));
  };
  const crash = (err: unknown, how: string): void => {
    setTimeout(() => process.exit(1), CRASH_EXIT_MS).unref();
    const message = err instanceof Error ? err.message : String(err);
    if (!daemon) {
      process.stderr.write(`${errorPrefix}: ${how}: ${message}\n`);
      process.exit(1);
    }
    daemon.logger.fatal({ event: 'crash', err }, `${how}: ${message}; stopping, the kill-switch stays in place`);
    void daemon.stop(true).finally(() => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    if (daemon) void daemon.reload();
    else pendingReload = true;
  });
  process.on('uncaughtException', (err) => crash(err, 'unexpected error'));
  process.on('unhandledRejection', (reason) => crash(reason, 'unhandled promise rejection'));
  armTestCrash();
  try {
    daemon = await Daemon.start({
      configPath,
      pathEnv,
      engine: new NativeEngine(),
      ...(logDestination === undefined ? {} : { logDestination }),
      network: systemNetwork,
      discoveryTransport: new UdpDiscoveryTransport(),
      onStopped: (code) => process.exit(code),
    });
  } catch (err) {
    process.exit(printError(errorPrefix, explainStartFailure(err)));
  }
  notifyReady(daemon.logger);
  if (pendingStop !== undefined) shutdown(pendingStop);
  else if (pendingReload) void daemon.reload();
}
