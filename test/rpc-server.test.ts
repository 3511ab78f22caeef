import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PimError } from '../ts/errors';
import { RpcCallError, RpcClient } from '../ts/rpc/client';
import { type MethodTable, type RpcLog, defineMethod } from '../ts/rpc/dispatch';
import { EventHub, NOTIFICATION_QUEUE_LIMIT } from '../ts/rpc/events';
import { LineSplitter } from '../ts/rpc/framing';
import { RpcServer } from '../ts/rpc/server';
import { tempDir } from './helpers/tmp.js';
import { eventually } from './helpers/wait.js';

type Json = Record<string, any>;

const recorded: string[] = [];
const sleeps = new Map<string, 'started' | 'finished'>();
/** Called by logs.subscribe once it has subscribed and sent its history, while its answer is pending. */
let replaySent: () => void = () => {};

const methods: MethodTable = {
  echo: defineMethod({ value: { type: 'string' } }, ({ value }) => ({ value })),
  'route.set_split_default': defineMethod({ on: { type: 'boolean' } }, ({ on }) => ({ on })),
  nothing: defineMethod({}, () => undefined),
  sleep: defineMethod({ ms: { type: 'integer' } }, async ({ ms }) => {
    await delay(ms);
    return 'slept';
  }),
  /** A sleep whose progress a test can see: sleeps.get(tag) is 'started', then 'finished'. */
  'sleep.tracked': defineMethod({ tag: { type: 'string' }, ms: { type: 'integer' } }, async ({ tag, ms }) => {
    sleeps.set(tag, 'started');
    await delay(ms);
    sleeps.set(tag, 'finished');
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
  'logs.subscribe': defineMethod({}, async (_p, ctx) => {
    const subscriptionId = ctx.subscribe('logs');
    for (const message of ['history 1', 'history 2']) ctx.notify('logs', { message });
    replaySent();
    await delay(50);
    // A context used after its call was answered must not hold anything back.
    setImmediate(() => ctx.notify('logs', { message: 'sent after the answer' }));
    return { subscription_id: subscriptionId, replayed: 2 };
  }),
  'status.unsubscribe': defineMethod({ subscription_id: { type: 'string' } }, (p, ctx) => {
    ctx.unsubscribe('status', p.subscription_id);
    return null;
  }),
};

/** A socket path in a fresh temp dir (removed when the test ends) whose parent does not exist yet. */
function socketPath(t: ExecutionContext): string {
  const dir = tempDir(t, 'pim-rpc-');
  return path.join(dir, 'run', 'pim.sock');
}

/** A server closed when the test ends, however it ends. */
async function start(t: ExecutionContext, at = socketPath(t), logs: Json[] = []): Promise<RpcServer> {
  const logger: RpcLog = (level, message, fields) => logs.push({ level, message, ...fields });
  const server = await RpcServer.listen({ path: at, methods, daemonVersion: '9.9.9', features: ['test'], logger });
  t.teardown(() => server.close());
  return server;
}

async function connect(t: ExecutionContext, at: string, client = 'test'): Promise<RpcClient> {
  const rpc = await RpcClient.connect(at, { client });
  t.teardown(() => rpc.close());
  return rpc;
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

  static connect(t: ExecutionContext, at: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(at, () => resolve(new Raw(socket)));
      socket.once('error', reject);
      t.teardown(() => socket.destroy());
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
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  const early = await raw.call('echo', { value: 'x' });
  t.is(early['error'].code, -32600);
  t.regex(early['error'].message, /call rpc\.hello first/);
  const wrong = await raw.call('rpc.hello', { client: 'test', rpc_version: 2 });
  t.is(wrong['error'].code, -32001);
  t.is((await raw.call('echo', { value: 'x' }))['error'].code, -32600, 'a failed hello leaves the gate shut');
  t.deepEqual((await raw.hello())['result'], { daemon: 'pim-daemon/9.9.9', rpc_version: 1, features: ['test'] });
  t.deepEqual((await raw.call('echo', { value: 'x' }))['result'], { value: 'x' });
});

test('bad JSON gets -32700 with id null and the connection keeps answering', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  await raw.hello();
  raw.send('{"jsonrpc":"2.0","id":1,');
  const answer = await raw.next();
  t.is(answer!['id'], null);
  t.is(answer!['error'].code, -32700);
  t.deepEqual((await raw.call('echo', { value: 'still here' }))['result'], { value: 'still here' });
});

test('envelope errors are -32600; unknown methods -32601; bad params -32602 naming the param', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
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
});

test('params missing or null are accepted; a handler returning nothing answers null', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  await raw.hello();
  raw.send({ jsonrpc: '2.0', id: 1, method: 'nothing' });
  t.deepEqual(await raw.next(), { jsonrpc: '2.0', id: 1, result: null });
  raw.send({ jsonrpc: '2.0', id: 2, method: 'nothing', params: null });
  t.deepEqual(await raw.next(), { jsonrpc: '2.0', id: 2, result: null });
});

test('ids are echoed exactly as sent', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  await raw.hello();
  for (const id of [7, 0, -3, 1.5, 'abc', '', '42']) {
    raw.send({ jsonrpc: '2.0', id, method: 'echo', params: { value: 'v' } });
    t.is((await raw.next())!['id'], id);
  }
  raw.send({ jsonrpc: '2.0', id: null, method: 'echo', params: { value: 'v' } });
  t.is((await raw.next())!['id'], null);
});

test('notifications from the client run but are never answered', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  await raw.hello();
  raw.send({ jsonrpc: '2.0', method: 'record', params: { tag: 'from-notification' } });
  raw.send({ jsonrpc: '2.0', method: 'nope' });
  raw.send({ jsonrpc: '2.0', method: 'route.set_split_default', params: { on: 'bad' } });
  const answer = await raw.call('echo', { value: 'after' });
  t.deepEqual(answer['result'], { value: 'after' }, 'the first line back answers the call, not a notification');
  t.true(recorded.includes('from-notification'));
});

test('PimErrors keep their code and data; other throws become a generic -32603 and the stack is logged', async (t) => {
  const logs: Json[] = [];
  const server = await start(t, socketPath(t), logs);
  const client = await connect(t, server.path);
  const missing = await t.throwsAsync(client.call('missing'), { instanceOf: RpcCallError });
  t.is(missing!.code, -32010);
  t.deepEqual(missing!.data, { node_id: 'abcd1234' });
  const crash = (await t.throwsAsync(client.call('crash'), { instanceOf: RpcCallError })) as RpcCallError;
  t.is(crash.code, -32603);
  t.notRegex(crash.message, /secret/);
  t.true(logs.some((l) => l.level === 'error' && String(l['stack']).includes('secret internals')));
});

test('a 1 MiB+ line closes only its own connection', async (t) => {
  const server = await start(t);
  const good = await connect(t, server.path, 'good');
  const bad = await Raw.connect(t, server.path);
  await bad.hello();
  bad.socket.write(Buffer.alloc(1024 * 1024 + 10, 'a'));
  const answer = await bad.next();
  t.is(answer!['id'], null);
  t.is(answer!['error'].code, -32600);
  t.is(await bad.next(), null, 'the offending connection is closed');
  t.deepEqual(await good.call('echo', { value: 'ok' }), { value: 'ok' });
});

test('the socket is a Unix socket of mode 0600 in a directory created 0700', async (t) => {
  const server = await start(t);
  const stat = fs.statSync(server.path);
  t.true(stat.isSocket());
  t.is(stat.mode & 0o777, 0o600);
  t.is(fs.statSync(path.dirname(server.path)).mode & 0o777, 0o700);
  t.deepEqual(fs.readdirSync(path.dirname(server.path)), ['pim.sock'], 'no temporary name is left behind');
});

test('a second server on the same path fails with socket_busy while the first keeps serving', async (t) => {
  const first = await start(t);
  const err = (await t.throwsAsync(start(t, first.path), { instanceOf: PimError })) as PimError;
  t.is(err.code, 'socket_busy');
  t.is(err.message, `another pim-daemon is already running on ${first.path}`);
  t.regex(err.hint!, /pim down/);
  const client = await connect(t, first.path);
  t.deepEqual(await client.call('echo', { value: 'first' }), { value: 'first' });
});

test('a socket left by a killed daemon is replaced', async (t) => {
  const at = socketPath(t);
  fs.mkdirSync(path.dirname(at), { recursive: true });
  const script = `require('net').createServer().listen(${JSON.stringify(at)}, () => console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  t.true(fs.statSync(at).isSocket(), 'the killed process left its socket file');
  await start(t, at);
  const client = await connect(t, at);
  t.deepEqual(await client.call('echo', { value: 'new' }), { value: 'new' });
});

test('a file at the path that is not a socket is left alone', async (t) => {
  const at = socketPath(t);
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.writeFileSync(at, 'precious');
  const err = (await t.throwsAsync(start(t, at), { instanceOf: PimError })) as PimError;
  t.is(err.code, 'io_failed');
  t.regex(err.message, /is not a socket/);
  t.is(fs.readFileSync(at, 'utf8'), 'precious');
});

test('close() removes the socket file, but not one that another server has put there since', async (t) => {
  const server = await start(t);
  await server.close();
  t.false(fs.existsSync(server.path));
  const old = await start(t);
  fs.unlinkSync(old.path);
  const replacement = await start(t, old.path);
  await old.close();
  t.true(fs.existsSync(replacement.path));
  const client = await connect(t, replacement.path);
  t.deepEqual(await client.call('echo', { value: 'alive' }), { value: 'alive' });
  await client.close();
  await replacement.close();
  t.false(fs.existsSync(replacement.path));
});

test('a client that disconnects mid-request harms nothing', async (t) => {
  const logs: Json[] = [];
  const server = await start(t, socketPath(t), logs);
  const leaver = await Raw.connect(t, server.path);
  await leaver.hello();
  const [conn] = server.connections;
  leaver.send({ jsonrpc: '2.0', id: 1, method: 'sleep.tracked', params: { tag: 'leaver', ms: 100 } });
  await eventually(t, 'the request to be running', () => sleeps.get('leaver') === 'started');
  leaver.socket.destroy();
  await conn!.closed;
  // The handler finishes after its client left; its answer goes nowhere (a turn of the event loop later).
  await eventually(t, 'the handler to finish', () => sleeps.get('leaver') === 'finished');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(server.connections.size, 0);
  const client = await connect(t, server.path);
  t.is(await client.call('sleep', { ms: 1 }), 'slept');
  t.deepEqual(logs.filter((l) => l.level === 'warn' || l.level === 'error'), []);
});

test('a client that shuts its write side still gets its answers', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  raw.send({ jsonrpc: '2.0', id: 1, method: 'rpc.hello', params: { client: 'test', rpc_version: 1 } });
  raw.send({ jsonrpc: '2.0', id: 2, method: 'sleep', params: { ms: 50 } });
  raw.socket.end();
  t.is((await raw.next())!['id'], 1);
  t.deepEqual(await raw.next(), { jsonrpc: '2.0', id: 2, result: 'slept' });
  t.is(await raw.next(), null);
});

test('events reach only subscribers, and unsubscribe stops them', async (t) => {
  const server = await start(t);
  const subscriber = await connect(t, server.path, 'sub');
  const bystander = await connect(t, server.path, 'other');
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
  while (server.connections.size > 1) await delay(5);
  server.events.publish('status', event);
  await bystander.call('nothing');
  t.deepEqual(unseen, []);
});

test('the hub: one delivery per subscribed connection, ids per connection, closed connections forgotten', (t) => {
  const hub = new EventHub();
  const got = { a: [] as string[], b: [] as string[] };
  const a = { id: 'a', deliver: (line: string) => got.a.push(line) };
  const b = { id: 'b', deliver: (line: string) => got.b.push(line) };
  const first = hub.subscribe(a, 'peers');
  const second = hub.subscribe(a, 'peers');
  hub.subscribe(a, 'logs');
  t.not(first, second);
  hub.publish('peers', { kind: 'connected' });
  t.deepEqual(got.a, ['{"jsonrpc":"2.0","method":"peers.event","params":{"kind":"connected"}}'], 'once, however many subscriptions');
  t.false(hub.unsubscribe(b, 'peers', first), "b cannot drop a's subscription");
  t.true(hub.unsubscribe(a, 'peers', first));
  hub.publish('peers', {});
  t.is(got.a.length, 2, 'still subscribed through the second id');
  hub.remove(a);
  hub.publish('peers', {});
  hub.publish('logs', {});
  t.is(got.a.length, 2, 'removed from every topic');
  const gateway = hub.subscribe(b, 'gateway');
  t.true(hub.unsubscribe(b, 'gateway', gateway));
  hub.publish('gateway', {});
  t.deepEqual(got.b, []);
});

test('the hub: a filtered subscription gets what its filter lets through, and a connection gets each notification once across its subscriptions', (t) => {
  const hub = new EventHub();
  const got: string[] = [];
  const a = { id: 'a', deliver: (line: string) => got.push(JSON.parse(line).params.level) };
  const warnUp = hub.subscribe(a, 'logs', (p) => p.level === 'warn' || p.level === 'error');
  hub.publish('logs', { level: 'info' });
  hub.publish('logs', { level: 'error' });
  t.deepEqual(got, ['error']);
  t.false(hub.receives(a, 'logs', { level: 'info' }));
  t.true(hub.receives(a, 'logs', { level: 'warn' }));
  hub.subscribe(a, 'logs', (p) => p.level === 'info' || p.level === 'error');
  hub.publish('logs', { level: 'info' });
  hub.publish('logs', { level: 'error' });
  hub.publish('logs', { level: 'debug' });
  t.deepEqual(got, ['error', 'info', 'error'], 'info through the second, error once though both let it through, debug through neither');
  hub.unsubscribe(a, 'logs', warnUp);
  hub.publish('logs', { level: 'warn' });
  t.deepEqual(got, ['error', 'info', 'error']);
});

test('the hub: a notification with a wider audience reaches subscribers of each of its topics, once each', (t) => {
  const hub = new EventHub();
  const got = { a: [] as string[], b: [] as string[], c: [] as string[] };
  const conn = (name: keyof typeof got) => ({ id: name, deliver: (line: string) => got[name].push(JSON.parse(line).method) });
  const [a, b, c] = [conn('a'), conn('b'), conn('c')];
  hub.subscribe(a, 'status');
  hub.subscribe(b, 'status');
  hub.subscribe(b, 'gateway');
  hub.subscribe(c, 'peers');
  hub.publish('gateway', { kind: 'enabled' }, ['gateway', 'status']);
  t.deepEqual(got, { a: ['gateway.event'], b: ['gateway.event'], c: [] });
});

test('what a subscribing call sends, and live events meanwhile, come after its answer, in order', async (t) => {
  const server = await start(t);
  const raw = await Raw.connect(t, server.path);
  await raw.hello();
  const subscribed = new Promise<void>((resolve) => (replaySent = resolve));
  raw.send({ jsonrpc: '2.0', id: 5, method: 'logs.subscribe' });
  await subscribed;
  server.events.publish('logs', { message: 'live while answering' });
  const answer = await raw.next();
  t.like(answer, { id: 5, result: { replayed: 2 } });
  const messages: string[] = [];
  for (let i = 0; i < 4; i++) messages.push((await raw.next())!['params'].message);
  t.deepEqual(messages, ['history 1', 'history 2', 'live while answering', 'sent after the answer']);
  server.events.publish('logs', { message: 'live later' });
  t.is((await raw.next())!['params'].message, 'live later');
});

test('a subscriber that stops reading has a bounded queue that keeps the newest events', async (t) => {
  const server = await start(t);
  const slow = await Raw.connect(t, server.path);
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
});

test('20 concurrent clients doing 50 calls each all succeed', async (t) => {
  const server = await start(t);
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(t, server.path, `c${i}`)));
  const results = await Promise.all(
    clients.map((client, i) => Promise.all(Array.from({ length: 50 }, (_, j) => client.call('echo', { value: `${i}/${j}` })))),
  );
  results.forEach((answers, i) => answers.forEach((answer, j) => t.deepEqual(answer, { value: `${i}/${j}` })));
});

test('the client reports a missing daemon as daemon_not_running', async (t) => {
  const at = socketPath(t);
  const err = (await t.throwsAsync(RpcClient.connect(at, { client: 'test' }), { instanceOf: PimError })) as PimError;
  t.is(err.code, 'daemon_not_running');
  t.is(err.message, `the pim daemon is not running (no answer on ${at})`);
  t.is(err.hint, 'start it with `sudo pim up`');
  t.is(err.exitCode, 3);
});

test('server.close() ends open connections and the client learns of it', async (t) => {
  const server = await start(t);
  const client = await connect(t, server.path);
  const pending = client.call('sleep', { ms: 2000 });
  await server.close();
  await client.whenClosed();
  await t.throwsAsync(pending, { instanceOf: PimError, message: /closed the connection before answering 'sleep'/ });
});
