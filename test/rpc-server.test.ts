import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PimError } from '../ts/errors';
import { RpcCallError, RpcClient } from '../ts/rpc/client';
import { type MethodTable, type RpcLog, defineMethod } from '../ts/rpc/dispatch';
import { NOTIFICATION_QUEUE_LIMIT } from '../ts/rpc/events';
import { LineSplitter } from '../ts/rpc/framing';
import { RpcServer } from '../ts/rpc/server';

type Json = Record<string, any>;

const recorded: string[] = [];

const methods: MethodTable = {
  echo: defineMethod({ value: { type: 'string' } }, ({ value }) => ({ value })),
  'route.set_split_default': defineMethod({ on: { type: 'boolean' } }, ({ on }) => ({ on })),
  nothing: defineMethod({}, () => undefined),
  sleep: defineMethod({ ms: { type: 'integer' } }, async ({ ms }) => {
    await delay(ms);
    return 'slept';
  }),
  crash: defineMethod({}, () => {
    throw new Error('secret internals');
  }),
  missing: defineMethod({}, () => {
    throw new PimError('peer_not_found', 'no peer matches abcd1234', { data: { node_id: 'abcd1234' } });
  }),
  record: defineMethod({ tag: { type: 'string' } }, ({ tag }) => void recorded.push(tag)),
  'status.subscribe': defineMethod({}, (_p, ctx) => ({ subscription_id: ctx.subscribe('status') })),
  'status.unsubscribe': defineMethod({ subscription_id: { type: 'string', optional: true } }, (p, ctx) => {
    ctx.unsubscribe('status', p.subscription_id ?? null);
    return null;
  }),
};

function socketPath(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pim-rpc-')), 'run', 'pim.sock');
}

async function start(at = socketPath(), logs: Json[] = []): Promise<RpcServer> {
  const logger: RpcLog = (level, message, fields) => logs.push({ level, message, ...fields });
  return RpcServer.listen({ path: at, methods, daemonVersion: '9.9.9', features: ['test'], logger });
}

/** A client that speaks raw lines, to send what RpcClient never would. */
class Raw {
  private readonly lines: Json[] = [];
  private readonly waiters: ((line: Json | null) => void)[] = [];
  private ended = false;
  private nextId = 1000;

  private constructor(readonly socket: net.Socket) {
    const splitter = new LineSplitter(64 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        const value = JSON.parse(line) as Json;
        const waiter = this.waiters.shift();
        if (waiter) waiter(value);
        else this.lines.push(value);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
      for (const waiter of this.waiters.splice(0)) waiter(null);
    });
  }

  static connect(at: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(at, () => resolve(new Raw(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  }

  /** The next line from the daemon, or null once the connection is closed. */
  next(): Promise<Json | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async call(method: string, params?: unknown): Promise<Json> {
    const id = this.nextId++;
    this.send({ jsonrpc: '2.0', id, method, params });
    const answer = await this.next();
    if (answer?.['id'] !== id) throw new Error(`expected the answer to ${id}, got ${JSON.stringify(answer)}`);
    return answer;
  }

  async hello(): Promise<Json> {
    return this.call('rpc.hello', { client: 'test', rpc_version: 1 });
  }
}

test('the hello gate: -32600 before hello, -32001 for another rpc_version, then the hello result', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  const early = await raw.call('echo', { value: 'x' });
  t.is(early['error'].code, -32600);
  t.regex(early['error'].message, /call rpc\.hello first/);
  const wrong = await raw.call('rpc.hello', { client: 'test', rpc_version: 2 });
  t.is(wrong['error'].code, -32001);
  t.is((await raw.call('echo', { value: 'x' }))['error'].code, -32600, 'a failed hello leaves the gate shut');
  t.deepEqual((await raw.hello())['result'], { daemon: 'pim-daemon/9.9.9', rpc_version: 1, features: ['test'] });
  t.deepEqual((await raw.call('echo', { value: 'x' }))['result'], { value: 'x' });
  raw.socket.destroy();
  await server.close();
});

test('bad JSON gets -32700 with id null and the connection keeps answering', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  await raw.hello();
  raw.send('{"jsonrpc":"2.0","id":1,');
  const answer = await raw.next();
  t.is(answer!['id'], null);
  t.is(answer!['error'].code, -32700);
  t.deepEqual((await raw.call('echo', { value: 'still here' }))['result'], { value: 'still here' });
  raw.socket.destroy();
  await server.close();
});

test('envelope errors are -32600; unknown methods -32601; bad params -32602 naming the param', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  await raw.hello();
  for (const bad of ['[]', '42', '{"jsonrpc":"1.0","id":1,"method":"echo"}', '{"jsonrpc":"2.0","id":1}']) {
    raw.send(bad);
    t.is((await raw.next())!['error'].code, -32600, bad);
  }
  t.is((await raw.call('nope'))['error'].code, -32601);
  t.is((await raw.call('constructor'))['error'].code, -32601, 'no prototype method is callable');
  const bad = await raw.call('route.set_split_default', { on: 'yes' });
  t.deepEqual(bad['error'], { code: -32602, message: "invalid params: 'on' must be a boolean" });
  t.is((await raw.call('route.set_split_default', [true]))['error'].code, -32602);
  raw.socket.destroy();
  await server.close();
});

test('params missing or null are accepted; a handler returning nothing answers null', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  await raw.hello();
  raw.send({ jsonrpc: '2.0', id: 1, method: 'nothing' });
  t.deepEqual(await raw.next(), { jsonrpc: '2.0', id: 1, result: null });
  raw.send({ jsonrpc: '2.0', id: 2, method: 'nothing', params: null });
  t.deepEqual(await raw.next(), { jsonrpc: '2.0', id: 2, result: null });
  raw.socket.destroy();
  await server.close();
});

test('ids are echoed exactly as sent', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  await raw.hello();
  for (const id of [7, 0, -3, 1.5, 'abc', '', '42']) {
    raw.send({ jsonrpc: '2.0', id, method: 'echo', params: { value: 'v' } });
    t.is((await raw.next())!['id'], id);
  }
  raw.send({ jsonrpc: '2.0', id: null, method: 'echo', params: { value: 'v' } });
  t.is((await raw.next())!['id'], null);
  raw.socket.destroy();
  await server.close();
});

test('notifications from the client run but are never answered', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  await raw.hello();
  raw.send({ jsonrpc: '2.0', method: 'record', params: { tag: 'from-notification' } });
  raw.send({ jsonrpc: '2.0', method: 'nope' });
  raw.send({ jsonrpc: '2.0', method: 'route.set_split_default', params: { on: 'bad' } });
  const answer = await raw.call('echo', { value: 'after' });
  t.deepEqual(answer['result'], { value: 'after' }, 'the first line back answers the call, not a notification');
  t.true(recorded.includes('from-notification'));
  raw.socket.destroy();
  await server.close();
});

test('PimErrors keep their code and data; other throws become a generic -32603 and the stack is logged', async (t) => {
  const logs: Json[] = [];
  const server = await start(socketPath(), logs);
  const client = await RpcClient.connect(server.path, { client: 'test' });
  const missing = await t.throwsAsync(client.call('missing'), { instanceOf: RpcCallError });
  t.is(missing!.code, -32010);
  t.deepEqual(missing!.data, { node_id: 'abcd1234' });
  const crash = (await t.throwsAsync(client.call('crash'), { instanceOf: RpcCallError })) as RpcCallError;
  t.is(crash.code, -32603);
  t.notRegex(crash.message, /secret/);
  t.true(logs.some((l) => l.level === 'error' && String(l['stack']).includes('secret internals')));
  await client.close();
  await server.close();
});

test('a 1 MiB+ line closes only its own connection', async (t) => {
  const server = await start();
  const good = await RpcClient.connect(server.path, { client: 'good' });
  const bad = await Raw.connect(server.path);
  await bad.hello();
  bad.socket.write(Buffer.alloc(1024 * 1024 + 10, 'a'));
  const answer = await bad.next();
  t.is(answer!['id'], null);
  t.is(answer!['error'].code, -32600);
  t.is(await bad.next(), null, 'the offending connection is closed');
  t.deepEqual(await good.call('echo', { value: 'ok' }), { value: 'ok' });
  await good.close();
  await server.close();
});

test('the socket is a Unix socket of mode 0600 in a directory created 0700', async (t) => {
  const server = await start();
  const stat = fs.statSync(server.path);
  t.true(stat.isSocket());
  t.is(stat.mode & 0o777, 0o600);
  t.is(fs.statSync(path.dirname(server.path)).mode & 0o777, 0o700);
  t.deepEqual(fs.readdirSync(path.dirname(server.path)), ['pim.sock'], 'no temporary name is left behind');
  await server.close();
});

test('a second server on the same path fails with socket_busy while the first keeps serving', async (t) => {
  const first = await start();
  const err = (await t.throwsAsync(start(first.path), { instanceOf: PimError })) as PimError;
  t.is(err.code, 'socket_busy');
  t.is(err.message, `another pim-daemon is already running on ${first.path}`);
  t.regex(err.hint!, /pim down/);
  const client = await RpcClient.connect(first.path, { client: 'test' });
  t.deepEqual(await client.call('echo', { value: 'first' }), { value: 'first' });
  await client.close();
  await first.close();
});

test('a socket left by a killed daemon is replaced', async (t) => {
  const at = socketPath();
  fs.mkdirSync(path.dirname(at), { recursive: true });
  const script = `require('net').createServer().listen(${JSON.stringify(at)}, () => console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  t.true(fs.statSync(at).isSocket(), 'the killed process left its socket file');
  const server = await start(at);
  const client = await RpcClient.connect(at, { client: 'test' });
  t.deepEqual(await client.call('echo', { value: 'new' }), { value: 'new' });
  await client.close();
  await server.close();
});

test('a file at the path that is not a socket is left alone', async (t) => {
  const at = socketPath();
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.writeFileSync(at, 'precious');
  const err = (await t.throwsAsync(start(at), { instanceOf: PimError })) as PimError;
  t.is(err.code, 'io_failed');
  t.regex(err.message, /is not a socket/);
  t.is(fs.readFileSync(at, 'utf8'), 'precious');
});

test('close() removes the socket file, but not one that another server has put there since', async (t) => {
  const server = await start();
  await server.close();
  t.false(fs.existsSync(server.path));
  const old = await start();
  fs.unlinkSync(old.path);
  const replacement = await start(old.path);
  await old.close();
  t.true(fs.existsSync(replacement.path));
  const client = await RpcClient.connect(replacement.path, { client: 'test' });
  t.deepEqual(await client.call('echo', { value: 'alive' }), { value: 'alive' });
  await client.close();
  await replacement.close();
  t.false(fs.existsSync(replacement.path));
});

test('a client that disconnects mid-request harms nothing', async (t) => {
  const logs: Json[] = [];
  const server = await start(socketPath(), logs);
  const leaver = await Raw.connect(server.path);
  await leaver.hello();
  leaver.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: { ms: 100 } });
  await delay(20);
  leaver.socket.destroy();
  await delay(200);
  t.is(server.connections.size, 0);
  const client = await RpcClient.connect(server.path, { client: 'test' });
  t.is(await client.call('sleep', { ms: 1 }), 'slept');
  t.deepEqual(logs.filter((l) => l.level === 'warn' || l.level === 'error'), []);
  await client.close();
  await server.close();
});

test('a client that shuts its write side still gets its answers', async (t) => {
  const server = await start();
  const raw = await Raw.connect(server.path);
  raw.send({ jsonrpc: '2.0', id: 1, method: 'rpc.hello', params: { client: 'test', rpc_version: 1 } });
  raw.send({ jsonrpc: '2.0', id: 2, method: 'sleep', params: { ms: 50 } });
  raw.socket.end();
  t.is((await raw.next())!['id'], 1);
  t.deepEqual(await raw.next(), { jsonrpc: '2.0', id: 2, result: 'slept' });
  t.is(await raw.next(), null);
  await server.close();
});

test('events reach only subscribers, and unsubscribe stops them', async (t) => {
  const server = await start();
  const subscriber = await RpcClient.connect(server.path, { client: 'sub' });
  const bystander = await RpcClient.connect(server.path, { client: 'other' });
  const seen: [string, unknown][] = [];
  const unseen: unknown[] = [];
  subscriber.onNotification((method, params) => seen.push([method, params]));
  bystander.onNotification((method) => unseen.push(method));
  const { subscription_id } = await subscriber.call<{ subscription_id: string }>('status.subscribe');
  t.is(typeof subscription_id, 'string');
  const event = { kind: 'route_on', at: '2025-01-01T00:00:00.000Z', detail: {} };
  server.events.publish('status', event);
  server.events.publish('peers', { kind: 'connected', at: event.at });
  await subscriber.call('nothing');
  await bystander.call('nothing');
  t.deepEqual(seen, [['status.event', event]]);
  t.deepEqual(unseen, []);
  await subscriber.call('status.unsubscribe', { subscription_id });
  server.events.publish('status', event);
  await subscriber.call('nothing');
  t.is(seen.length, 1);
  await subscriber.call('status.subscribe');
  await subscriber.close();
  await delay(20);
  server.events.publish('status', event); // the closed connection is gone from the topic: nothing to throw on
  t.is(server.connections.size, 1);
  await bystander.close();
  await server.close();
});

test('a subscriber that stops reading has a bounded queue that keeps the newest events', async (t) => {
  const server = await start();
  const slow = await Raw.connect(server.path);
  await slow.hello();
  await slow.call('status.subscribe');
  slow.socket.pause();
  const [conn] = [...server.connections];
  const total = 20_000;
  const padding = 'p'.repeat(1000);
  let maxQueued = 0;
  for (let seq = 0; seq < total; seq++) {
    server.events.publish('status', { kind: 'tick', at: 'now', detail: { seq, padding } });
    maxQueued = Math.max(maxQueued, conn!.queuedNotifications);
  }
  t.is(maxQueued, NOTIFICATION_QUEUE_LIMIT, 'the queue filled up to its bound and no further');
  t.true(conn!.droppedNotifications > 0);
  slow.socket.resume();
  const received: number[] = [];
  while (received.at(-1) !== total - 1) received.push((await slow.next())!['params'].detail.seq);
  t.true(received.length < total);
  t.true(received.every((seq, i) => i === 0 || seq > received[i - 1]!), 'order is kept');
  slow.socket.destroy();
  await server.close();
});

test('20 concurrent clients doing 50 calls each all succeed', async (t) => {
  const server = await start();
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => RpcClient.connect(server.path, { client: `c${i}` })));
  const results = await Promise.all(
    clients.map((client, i) => Promise.all(Array.from({ length: 50 }, (_, j) => client.call('echo', { value: `${i}/${j}` })))),
  );
  results.forEach((answers, i) => answers.forEach((answer, j) => t.deepEqual(answer, { value: `${i}/${j}` })));
  await Promise.all(clients.map((client) => client.close()));
  await server.close();
});

test('the client reports a missing daemon as daemon_not_running', async (t) => {
  const at = socketPath();
  const err = (await t.throwsAsync(RpcClient.connect(at, { client: 'test' }), { instanceOf: PimError })) as PimError;
  t.is(err.code, 'daemon_not_running');
  t.is(err.message, `the pim daemon is not running (no answer on ${at})`);
  t.is(err.hint, 'start it with `sudo pim up`');
  t.is(err.exitCode, 3);
});

test('server.close() ends open connections and the client learns of it', async (t) => {
  const server = await start();
  const client = await RpcClient.connect(server.path, { client: 'test' });
  const pending = client.call('sleep', { ms: 2000 });
  await server.close();
  await client.whenClosed();
  await t.throwsAsync(pending, { instanceOf: PimError, message: /closed the connection before answering 'sleep'/ });
});
