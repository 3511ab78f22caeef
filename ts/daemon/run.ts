// Runs the daemon in this process until a signal or a fatal fault stops it:
// shared by `pim-daemon` and `pim up` (foreground). Errors that prevent the
// start end with one line on stderr and the registry's exit code.

import type { PathEnv } from '../config/paths.js';
import { NativeEngine } from '../native/binding.js';
import { printError } from '../report.js';
import { systemNetwork } from '../routing/os-network.js';
import { UdpDiscoveryTransport } from '../discovery/transport.js';
import { notifyReady } from '../systemd/notify.js';
import { Daemon } from './daemon.js';

export async function runDaemon(configPath: string, pathEnv: PathEnv, errorPrefix: string): Promise<void> {
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
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    if (daemon) void daemon.reload();
    else pendingReload = true;
  });
  try {
    daemon = await Daemon.start({
      configPath,
      pathEnv,
      engine: new NativeEngine(),
      network: systemNetwork,
      discoveryTransport: new UdpDiscoveryTransport(),
      onStopped: (code) => process.exit(code),
    });
  } catch (err) {
    process.exit(printError(errorPrefix, err));
  }
  notifyReady(daemon.logger);
  // A bug must not leave the tunnel half-alive: log it, tear down, exit non-zero.
  const running = daemon;
  process.on('uncaughtException', (err) => {
    running.logger.fatal({ event: 'crash', err }, `unexpected error: ${err.message}`);
    void running.stop().finally(() => process.exit(1));
  });
  if (pendingStop !== undefined) shutdown(pendingStop);
  else if (pendingReload) void running.reload();
}
