// The real Daemon in this process, with the FakeEngine standing in for the
// data plane, in a temp dir removed when the test ends: what the tests of the
// control socket start from.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PathEnv } from '../../ts/config/paths.js';
import { Daemon } from '../../ts/daemon/daemon.js';
import { FakeEngine } from '../../ts/native/fake-engine.js';
import type { DiscoveryTransport } from '../../ts/discovery/transport.js';
import type { OsNetwork } from '../../ts/routing/os-network.js';
import { RpcClient } from '../../ts/rpc/client.js';

export interface TestDaemonOptions {
  /** The temp dir's name prefix. */
  tmpPrefix: string;
  /** Writes the config file before the daemon starts; its `rpc.socket` must be `<dir>/pim.sock`. */
  writeConfig(dir: string, configPath: string): void;
  /** The name clients give in rpc.hello. */
  clientName: string;
  clientTimeoutMs?: number;
  /** The engine (a FakeEngine or a subclass); a new FakeEngine when absent. */
  engine?: FakeEngine;
  network?: OsNetwork;
  /** LAN discovery's transport (none: discovery stays off even when the config enables it). */
  discoveryTransport?: DiscoveryTransport;
  /** Each JSON log line; dropped when absent. */
  onLog?: (line: Record<string, unknown>) => void;
}

export interface TestDaemon {
  dir: string;
  configPath: string;
  socket: string;
  pathEnv: PathEnv;
  fake: FakeEngine;
  daemon: Daemon;
  /** The exit codes onStopped reported. */
  stoppedWith: number[];
  /** A connected client, closed when the test ends. */
  client(): Promise<RpcClient>;
}

export async function startTestDaemon(t: ExecutionContext, opts: TestDaemonOptions): Promise<TestDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix));
  const clients: RpcClient[] = [];
  let daemon: Daemon | undefined;
  t.teardown(async () => {
    for (const c of clients) await c.close();
    await daemon?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const configPath = path.join(dir, 'pim.toml');
  opts.writeConfig(dir, configPath);
  const fake = opts.engine ?? new FakeEngine();
  const stoppedWith: number[] = [];
  const pathEnv: PathEnv = { uid: 1000, env: { XDG_DATA_HOME: path.join(dir, 'data'), XDG_RUNTIME_DIR: path.join(dir, 'run') }, homedir: dir };
  const onLog = opts.onLog;
  daemon = await Daemon.start({
    configPath,
    pathEnv,
    engine: fake,
    network: opts.network,
    ...(opts.discoveryTransport ? { discoveryTransport: opts.discoveryTransport } : {}),
    logDestination: { write: onLog ? (s: string) => onLog(JSON.parse(s) as Record<string, unknown>) : () => undefined },
    onStopped: (code) => void stoppedWith.push(code),
  });
  const socket = path.join(dir, 'pim.sock');
  return {
    dir,
    configPath,
    socket,
    pathEnv,
    fake,
    daemon,
    stoppedWith,
    async client() {
      const c = await RpcClient.connect(socket, { client: opts.clientName, timeoutMs: opts.clientTimeoutMs ?? 5000 });
      clients.push(c);
      return c;
    },
  };
}

export { eventually } from './wait.js';
