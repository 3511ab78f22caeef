// One client of the control socket, from bytes to answers:
//   1. socket data → LineSplitter → one JSON text per line (too long: answer, close)
//   2. JSON.parse (bad: -32700, id null) → envelope check (bad: -32600)
//   3. hello gate: rpc.hello must come first (anything else: -32600)
//   4. dispatch, concurrently; a request without id is run but never answered
//   5. every outgoing line goes through the Outbox (events.ts), the only writer
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
import { type EventHub, type Subscriber, Outbox, notificationLine } from './events';
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

export class Connection implements Subscriber {
  readonly id: string;
  /** Settles when the socket has closed and the connection has left every topic. */
  readonly closed: Promise<void>;
  private readonly outbox: Outbox;
  private readonly splitter = new LineSplitter();
  private greeted = false;
  private inFlight = 0;
  private readEnded = false;
  private ending = false;
  private gone = false;

  constructor(private readonly opts: ConnectionOptions) {
    const { socket, hub } = opts;
    this.id = opts.id;
    this.outbox = new Outbox(socket, () => this.updateFlow());
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

  /**
   * Takes no more requests, flushes what is queued and closes; a client that
   * does not read is cut off after a grace period.
   */
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
    const call = this.callContext();
    const outcome = await dispatch(methods, request.method, request.params, call.ctx, log);
    this.inFlight--;
    this.answer(request.id, outcome);
    call.finish();
    if (this.readEnded && this.inFlight === 0) this.end();
    else this.updateFlow();
  }

  /**
   * The context of one call. Once the handler subscribes or notifies, the
   * connection's notifications wait until the call's answer is queued, so a
   * client reads `{subscription_id}` first, then what the handler sent (a
   * history replay), then live events, with nothing lost in between.
   */
  private callContext(): { ctx: CallContext; finish: () => void } {
    const { hub } = this.opts;
    let state: 'running' | 'holding' | 'done' = 'running';
    const hold = (): void => {
      if (state !== 'running') return;
      state = 'holding';
      this.outbox.hold();
    };
    const ctx: CallContext = {
      connectionId: this.id,
      subscribe: (topic, accepts) => {
        hold();
        const subscriptionId = hub.subscribe(this, topic, accepts ?? null);
        // A handler may subscribe after its client left; don't keep the dead connection.
        if (this.gone) hub.remove(this);
        return subscriptionId;
      },
      unsubscribe: (topic, subscriptionId) => hub.unsubscribe(this, topic, subscriptionId),
      receives: (topic, params) => hub.receives(this, topic, params),
      notify: (topic, params) => {
        hold();
        this.deliver(notificationLine(topic, params));
      },
    };
    const finish = (): void => {
      if (state === 'holding') this.outbox.release();
      state = 'done';
    };
    return { ctx, finish };
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
