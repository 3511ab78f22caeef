// A control-socket client that speaks as pim-ui's Tauri shell does
// (src-tauri/src/daemon/jsonrpc.rs at 273354f): numeric ids from 1, `params`
// always present (`null` when the UI passes none), one JSON object per line.
// It records every request with its answer, and every notification, in order.

import * as net from 'node:net';

export type Json = Record<string, any>;
export type Answer = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

export interface Exchange {
  id: number;
  method: string;
  params: unknown;
  answer?: Answer;
}

export class ShellConnection {
  readonly exchanges: Exchange[] = [];
  readonly notifications: { method: string; params: Json }[] = [];
  readonly closed: Promise<void>;
  private readonly pending = new Map<number, (a: Answer) => void>();
  private nextId = 1;
  private buf = '';

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.receive(JSON.parse(this.buf.slice(0, nl)) as Json);
        this.buf = this.buf.slice(nl + 1);
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(socketPath: string): Promise<ShellConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath, () => resolve(new ShellConnection(s)));
      s.once('error', reject);
    });
  }

  private receive(m: Json): void {
    if (typeof m.id === 'number') {
      const answer: Answer = 'error' in m ? { error: m.error } : { result: m.result };
      this.exchanges.find((e) => e.id === m.id)!.answer = answer;
      this.pending.get(m.id)?.(answer);
      this.pending.delete(m.id);
    } else {
      this.notifications.push({ method: m.method, params: m.params });
    }
  }

  /** One request; resolves with its answer (an error answer too) or rejects when the connection closes first. */
  call(method: string, params: unknown = null): Promise<Answer> {
    const id = this.nextId++;
    this.exchanges.push({ id, method, params });
    return new Promise((resolve, reject) => {
      this.pending.set(id, resolve);
      void this.closed.then(() => reject(new Error(`the connection closed before ${method} (#${id}) was answered`)));
      this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /** A call that must succeed: its result. */
  async ok<T = Json>(method: string, params: unknown = null): Promise<T> {
    const a = await this.call(method, params);
    if ('error' in a) throw new Error(`${method} ${JSON.stringify(params)} failed: ${JSON.stringify(a.error)}`);
    return a.result as T;
  }

  close(): void {
    this.socket.destroy();
  }
}
