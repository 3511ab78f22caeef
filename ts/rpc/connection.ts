// One client of the control socket, from bytes to answers:
//   1. socket data → LineSplitter → one JSON text per line (too long: answer, close)
//   2. JSON.parse (bad: -32700, id null) → envelope check (bad: -32600)
//   3. hello gate: rpc.hello must come first (anything else: -32600)
//   4. dispatch, concurrently; a request without id is run but never answered
//   5. every outgoing line goes through the Outbox, the only writer
//
// Flow control: reading pauses while the socket's write side is full or too
// many requests are running, so neither a client that sends without reading
// nor one that floods requests can make the daemon buffer without bound.

import type * as net from 'node:net';
import { ERRORS, PimError } from '../errors';
import {
  type CallContext,
  type MethodTable,
  type Outcome,
  type Request,
  type RequestId,
  type RpcLog,
  dispatch,
  errorObject,
  internalError,
  invalidRequest,
  parseRequest,
} from './dispatch';
import { type EventHub, type Subscriber, NOTIFICATION_QUEUE_LIMIT, notificationLine } from './events';
import { LineSplitter } from './framing';
import { validateParams } from './params';

export const RPC_VERSION = 1;

/** Requests of one connection that may run at once before reading pauses. */
const MAX_IN_FLIGHT = 64;
/** How long a closing connection may take to flush to a client that does not read. */
const CLOSE_GRACE_MS = 1000;

const HELLO_PARAMS = { client: { type: 'string' }, rpc_version: { type: 'integer' } } as const;

export interface HelloInfo {
  /** `pim-daemon/<version>` */
  daemon: string;
  features: readonly string[];
}

export interface ConnectionOptions {
  id: string;
  socket: net.Socket;
  methods: MethodTable;
  hub: EventHub;
  hello: HelloInfo;
  log: RpcLog;
}

/**
 * The single writer of a connection. Lines go to the socket whole, in order;
 * while the socket is full they wait here, and waiting notifications are
 * capped at NOTIFICATION_QUEUE_LIMIT by dropping the oldest. Responses are
 * never dropped: they are bounded by the requests read, and reading pauses
 * while the socket is full.
 */
class Outbox {
  private readonly queue: { line: string; notification: boolean }[] = [];
  private notifications = 0;
  private ending = false;
  blocked = false;
  dropped = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly onBlockedChange: () => void,
  ) {
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
      this.onBlockedChange();
    });
  }

  get queuedNotifications(): number {
    return this.notifications;
  }

  /** False once the connection is ending or gone: nothing more can be sent. */
  get open(): boolean {
    return !this.ending && this.socket.writable;
  }

  send(line: string, notification: boolean): void {
    if (!this.open) return;
    if (notification && this.notifications >= NOTIFICATION_QUEUE_LIMIT) {
      // The oldest waiting notification sits near the head: everything ahead
      // of it is a response, and few responses wait while reading is paused.
      this.queue.splice(this.queue.findIndex((item) => item.notification), 1);
      this.notifications--;
      this.dropped++;
    }
    this.queue.push({ line, notification });
    if (notification) this.notifications++;
    this.flush();
  }

  /** Sends what is queued, then ends the socket's write side. */
  end(): void {
    this.ending = true;
    this.flush();
  }

  private flush(): void {
    while (!this.blocked && this.queue.length > 0 && this.socket.writable) {
      const item = this.queue.shift()!;
      if (item.notification) this.notifications--;
      if (!this.socket.write(`${item.line}\n`)) {
        this.blocked = true;
        this.onBlockedChange();
      }
    }
    if (this.ending && this.queue.length === 0 && this.socket.writable) this.socket.end();
  }
}

export class Connection implements Subscriber {
  readonly id: string;
  /** Settles when the socket has closed and the connection has left every topic. */
  readonly closed: Promise<void>;
  private readonly outbox: Outbox;
  private readonly splitter = new LineSplitter();
  private readonly ctx: CallContext;
  private greeted = false;
  private inFlight = 0;
  private readEnded = false;
  private ending = false;
  private gone = false;

  constructor(private readonly opts: ConnectionOptions) {
    const { socket, hub } = opts;
    this.id = opts.id;
    this.outbox = new Outbox(socket, () => this.updateFlow());
    this.ctx = {
      connectionId: this.id,
      subscribe: (topic) => {
        const subscriptionId = hub.subscribe(this, topic);
        // A handler may subscribe after its client left; don't keep the dead connection.
        if (this.gone) hub.remove(this);
        return subscriptionId;
      },
      unsubscribe: (topic, subscriptionId) => hub.unsubscribe(this, topic, subscriptionId),
      notify: (topic, params) => this.deliver(notificationLine(topic, params)),
    };
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The server socket is half-open: a client may send its requests, shut
    // its write side and still get every answer.
    socket.on('end', () => {
      this.readEnded = true;
      if (this.inFlight === 0) this.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A client that vanishes is normal; anything else is worth a line in the log.
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
      opts.log('warn', 'rpc connection error', { connection: this.id, error: err.message });
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.gone = true;
        hub.remove(this);
        resolve();
      });
    });
  }

  /** Notifications waiting for a client that is not reading (never above NOTIFICATION_QUEUE_LIMIT). */
  get queuedNotifications(): number {
    return this.outbox.queuedNotifications;
  }

  /** Notifications dropped because the client did not read them in time. */
  get droppedNotifications(): number {
    return this.outbox.dropped;
  }

  deliver(line: string): void {
    this.outbox.send(line, true);
  }

  /** Stops reading, flushes what is queued and closes; a client that doesn't read is cut off after a grace period. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    const { socket } = this.opts;
    socket.once('finish', () => socket.destroy());
    const grace = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    grace.unref();
    socket.once('close', () => clearTimeout(grace));
    this.outbox.end();
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (err) {
      this.reply(null, { error: errorObject(err as PimError) });
      this.end();
      return;
    }
    for (const line of lines) this.onLine(line);
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.reply(null, { error: { code: ERRORS.parse_error.rpc, message: `parse error: ${detail}` } });
      return;
    }
    const request = parseRequest(message);
    if ('error' in request) {
      this.reply(request.id, { error: request.error });
    } else if (request.method === 'rpc.hello') {
      // Synchronous, so a request pipelined right behind hello already sees the gate open.
      this.answer(request.id, this.hello(request.params));
    } else if (!this.greeted) {
      this.answer(request.id, { error: invalidRequest('call rpc.hello first') });
    } else {
      void this.run(request);
    }
  }

  private hello(params: unknown): Outcome {
    let values;
    try {
      values = validateParams(HELLO_PARAMS, params);
    } catch (err) {
      return { error: errorObject(err as PimError) };
    }
    if (values.rpc_version !== RPC_VERSION) {
      const err = new PimError(
        'rpc_version_mismatch',
        `rpc_version ${values.rpc_version} is not supported: this daemon speaks rpc_version ${RPC_VERSION}; use a pim client of the same release`,
        { data: { rpc_version: RPC_VERSION } },
      );
      return { error: errorObject(err) };
    }
    this.greeted = true;
    this.opts.log('debug', 'rpc client said hello', { connection: this.id, client: values.client });
    const { daemon, features } = this.opts.hello;
    return { result: { daemon, rpc_version: RPC_VERSION, features: [...features] } };
  }

  private async run(request: Request): Promise<void> {
    const { methods, log } = this.opts;
    this.inFlight++;
    this.updateFlow();
    const outcome = await dispatch(methods, request.method, request.params, this.ctx, log);
    this.inFlight--;
    this.answer(request.id, outcome);
    if (this.readEnded && this.inFlight === 0) this.end();
    else this.updateFlow();
  }

  private answer(id: RequestId | undefined, outcome: Outcome): void {
    if (id !== undefined) this.reply(id, outcome);
  }

  private reply(id: RequestId, outcome: Outcome): void {
    // A client that left mid-request simply gets nothing.
    if (!this.outbox.open) return;
    let line: string;
    try {
      line = JSON.stringify({ jsonrpc: '2.0', id, ...outcome });
    } catch (err) {
      const error = internalError(err, this.opts.log, { connection: this.id, during: 'encoding the response' });
      line = JSON.stringify({ jsonrpc: '2.0', id, error });
    }
    this.outbox.send(line, false);
  }

  private updateFlow(): void {
    if (this.ending) return;
    if (this.outbox.blocked || this.inFlight >= MAX_IN_FLIGHT) this.opts.socket.pause();
    else this.opts.socket.resume();
  }
}
