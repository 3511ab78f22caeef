// Runs the daemon in this process until a signal or a fatal fault stops it:
// shared by `pim-daemon` and `pim up` (foreground). Errors that prevent the
// start end with one line on stderr and the registry's exit code.

import type { PathEnv } from '../config/paths.js';
import { NativeEngine } from '../native/binding.js';
import { systemNetwork } from '../routing/os-network.js';
import { printError } from '../report.js';
import { Daemon } from './daemon.js';

export async function runDaemon(configPath: string, pathEnv: PathEnv, errorPrefix: string): Promise<void> {
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      configPath,
      pathEnv,
      engine: new NativeEngine(),
      network: systemNetwork,
      onStopped: (code) => process.exit(code),
    });
  } catch (err) {
    process.exit(printError(errorPrefix, err));
  }
  const shutdown = (signal: string): void => {
    daemon.logger.info({ event: 'signal', signal }, `received ${signal}, shutting down`);
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => void daemon.reload());
  // A bug must not leave the tunnel half-alive: log it, tear down, exit non-zero.
  process.on('uncaughtException', (err) => {
    daemon.logger.fatal({ event: 'crash', err }, `unexpected error: ${err.message}`);
    void daemon.stop().finally(() => process.exit(1));
  });
}
