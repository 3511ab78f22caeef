// The control socket: a Unix stream socket, never TCP, readable and writable
// by its owner only.
//
// Binding, in order:
//   1. create the parent directory (0700) if it is missing
//   2. a socket file already at the path: if something accepts a connection
//      on it, another daemon owns it (socket_busy); if not, it is stale: remove
//   3. bind a temporary name in the same directory under umask 0177, so the
//      socket is 0600 from its first instant (listen() binds synchronously)
//   4. hard-link it to the real path (fails if a racing daemon got there
//      first) and drop the temporary name
//
// Why the temporary name: libuv unlinks the path it bound when the server
// closes, whoever owns that path by then. Binding elsewhere leaves the real
// path to us, and close() removes it only if it is still our socket's inode.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PimError } from '../errors';
import { Connection, type HelloInfo } from './connection';
import type { MethodTable, RpcLog } from './dispatch';
import { EventHub } from './events';

export interface RpcServerOptions {
  path: string;
  methods: MethodTable;
  daemonVersion: string;
  features: readonly string[];
  logger: RpcLog;
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function ioFailed(what: string, err: unknown): PimError {
  return new PimError('io_failed', `${what}: ${(err as Error).message}`, { cause: err });
}

function socketBusy(socketPath: string): PimError {
  return new PimError('socket_busy', `another pim-daemon is already running on ${socketPath}`, {
    hint: 'stop it with `pim down`, or set [rpc] socket to another path',
  });
}

/** Whether something accepts connections on the socket file at socketPath. */
function isListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else if (err.code === 'EAGAIN') resolve(true); // a listener with a full backlog
      else reject(ioFailed(`cannot tell whether ${socketPath} is in use`, err));
    });
  });
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.lstat(socketPath);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw ioFailed(`cannot inspect ${socketPath}`, err);
  }
  // Never delete something that is not a socket: a mistyped path must not cost the user a file.
  if (!stat.isSocket()) {
    throw new PimError('io_failed', `${socketPath} exists and is not a socket`, {
      hint: 'remove it, or set [rpc] socket to another path',
    });
  }
  if (await isListening(socketPath)) throw socketBusy(socketPath);
  await fs.promises.rm(socketPath, { force: true });
}

function listenWithUmask(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const previous = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
}

export class RpcServer {
  readonly path: string;
  /** Publish daemon events here; they reach the connections that subscribed. */
  readonly events = new EventHub();
  private readonly live = new Set<Connection>();
  private readonly server: net.Server;
  private nextConnection = 1;
  private inode: { dev: number; ino: number } | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly opts: RpcServerOptions) {
    this.path = opts.path;
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  static async listen(opts: RpcServerOptions): Promise<RpcServer> {
    const dir = path.dirname(opts.path);
    try {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioFailed(`cannot create the control socket directory ${dir}`, err);
    }
    await removeStaleSocket(opts.path);
    const server = new RpcServer(opts);
    await server.bind();
    return server;
  }

  /** The open client connections. */
  get connections(): ReadonlySet<Connection> {
    return this.live;
  }

  /** Stops accepting, ends every connection and removes the socket file if it is still ours. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async bind(): Promise<void> {
    const dir = path.dirname(this.path);
    const temporary = path.join(dir, `.pim-daemon-${process.pid}.sock`);
    await fs.promises.rm(temporary, { force: true });
    try {
      await listenWithUmask(this.server, temporary);
    } catch (err) {
      throw ioFailed(`cannot create the control socket ${this.path} (bound first as ${temporary})`, err);
    }
    try {
      await fs.promises.link(temporary, this.path);
    } catch (err) {
      this.server.close();
      if (errnoOf(err) === 'EEXIST') throw socketBusy(this.path);
      throw ioFailed(`cannot create the control socket ${this.path}`, err);
    } finally {
      await fs.promises.rm(temporary, { force: true });
    }
    // The umask made it 0600 at bind. No chmod by path afterwards: chmod
    // follows symlinks, and a path swapped in between would hand root's
    // chmod to whoever swapped it. Check what is there instead.
    const stat = await fs.promises.lstat(this.path);
    if (!stat.isSocket() || (stat.mode & 0o777) !== 0o600) {
      this.server.close();
      throw ioFailed(`cannot create the control socket ${this.path}`, new Error(`found ${stat.isSocket() ? `mode ${(stat.mode & 0o777).toString(8)}` : 'something other than our socket'} there after binding`));
    }
    this.inode = { dev: stat.dev, ino: stat.ino };
    this.server.on('error', (err) => this.opts.logger('warn', 'rpc socket error', { error: err.message }));
    this.opts.logger('info', 'control socket listening', { path: this.path });
  }

  private accept(socket: net.Socket): void {
    const { methods, daemonVersion, features, logger } = this.opts;
    const hello: HelloInfo = { daemon: `pim-daemon/${daemonVersion}`, features };
    const conn = new Connection({
      id: `c${this.nextConnection++}`,
      socket,
      methods,
      hub: this.events,
      hello,
      log: logger,
    });
    this.live.add(conn);
    void conn.closed.then(() => this.live.delete(conn));
  }

  private async shutdown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.removeSocketFileIfOurs();
    for (const conn of this.live) conn.end();
    await stopped;
  }

  private async removeSocketFileIfOurs(): Promise<void> {
    try {
      const stat = await fs.promises.lstat(this.path);
      if (stat.dev === this.inode?.dev && stat.ino === this.inode.ino) await fs.promises.unlink(this.path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') {
        this.opts.logger('warn', 'cannot remove the control socket', { path: this.path, error: (err as Error).message });
      }
    }
  }
}
