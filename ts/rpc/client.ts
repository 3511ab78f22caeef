// The client side of the control socket, for the CLI and tests: connect,
// say hello, then calls matched to answers by id, and notifications passed
// to listeners.

import * as net from 'node:net';
import { ERRORS, PimError } from '../errors';
import { RPC_VERSION } from './connection';
import { LineSplitter } from './framing';

/** The daemon is trusted, and some answers (config, history) can exceed the daemon's request limit. */
const RESPONSE_MAX_LINE_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

/** The daemon answered a call with a JSON-RPC error. */
export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
    this.name = 'RpcCallError';
  }
}

export interface RpcClientOptions {
  /** Who is calling, e.g. 'pim-cli'; the daemon logs it. */
  client: string;
  /** Bounds connecting, the hello and every call (default 10 s). */
  timeoutMs?: number;
}

export interface HelloResult {
  daemon: string;
  rpc_version: number;
  features: string[];
}

export type NotificationListener = (method: string, params: unknown) => void;

type Pending = {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
};

function connectError(socketPath: string, err: NodeJS.ErrnoException): PimError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new PimError('daemon_not_running', `the pim daemon is not running (no answer on ${socketPath})`, {
        hint: 'start it with `sudo pim up`',
        cause: err,
      });
    case 'EACCES':
      return new PimError('io_failed', `permission denied on the control socket ${socketPath}: it belongs to another user`, {
        hint: 'run pim as the user that runs the daemon (for a daemon started with sudo: sudo pim …)',
        cause: err,
      });
    default:
      return new PimError('io_failed', `cannot connect to the control socket ${socketPath}: ${err.message}`, { cause: err });
  }
}

function openSocket(socketPath: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PimError('daemon_not_running', `the pim daemon did not answer on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(socketPath, err));
    });
  });
}

export class RpcClient {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<NotificationListener>();
  private readonly splitter = new LineSplitter(RESPONSE_MAX_LINE_BYTES);
  private readonly closed: Promise<void>;
  private nextId = 1;
  private failure: Error | undefined;
  private helloResult: HelloResult | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.failure ??= new PimError('io_failed', `the connection to the daemon failed: ${err.message}`, { cause: err });
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        const reason = this.failure;
        for (const [id, call] of this.pending) {
          this.settle(id);
          call.reject(reason ?? new PimError('io_failed', `the daemon closed the connection before answering '${call.method}'`));
        }
        resolve();
      });
    });
  }

  /** Connects to the daemon's control socket and performs rpc.hello. */
  static async connect(socketPath: string, options: RpcClientOptions): Promise<RpcClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client = new RpcClient(await openSocket(socketPath, timeoutMs), timeoutMs);
    try {
      client.helloResult = await client.call<HelloResult>('rpc.hello', { client: options.client, rpc_version: RPC_VERSION });
    } catch (err) {
      await client.close();
      if (err instanceof RpcCallError && err.code === ERRORS.rpc_version_mismatch.rpc) {
        throw new PimError('rpc_version_mismatch', err.message, { hint: 'use pim and pim-daemon from the same release' });
      }
      throw err;
    }
    return client;
  }

  /** What the daemon said in answer to rpc.hello. */
  get hello(): HelloResult {
    return this.helloResult!;
  }

  /** Calls a method; rejects with RpcCallError when the daemon answers with an error. */
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T> {
    if (this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(this.failure ?? new PimError('io_failed', 'the connection to the daemon is closed'));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id);
        reject(new PimError('io_failed', `the daemon did not answer '${method}' within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject, timer });
      const request = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
      this.socket.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Listens to the daemon's notifications; returns a function that stops listening. */
  onNotification(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Settles when the connection has closed, whichever side closed it. */
  whenClosed(): Promise<void> {
    return this.closed;
  }

  /** Closes the connection; calls still waiting are rejected. */
  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private settle(id: number): void {
    const call = this.pending.get(id);
    if (call === undefined) return;
    clearTimeout(call.timer);
    this.pending.delete(id);
  }

  private onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (err) {
      this.failure = err as Error;
      this.socket.destroy();
      return;
    }
    for (const line of lines) this.onLine(line);
  }

  private onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.failure = new PimError('io_failed', 'the daemon sent a line that is not JSON; is the socket path right?');
      this.socket.destroy();
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { id, method } = message;
    if (id === undefined && typeof method === 'string') {
      for (const listener of this.listeners) listener(method, message['params']);
      return;
    }
    const call = typeof id === 'number' ? this.pending.get(id) : undefined;
    // Answers to calls that timed out, and errors the daemon could not tie to a call, have no one to go to.
    if (call === undefined) return;
    this.settle(id as number);
    const error = message['error'] as { code: number; message: string; data?: unknown } | undefined;
    if (error !== undefined) call.reject(new RpcCallError(call.method, error.code, error.message, error.data));
    else call.resolve(message['result']);
  }
}
