// pim-ui's session, replayed against a real daemon in a network namespace:
// what the dashboard at 273354f sends, in its order and with its params
// (src/hooks/use-daemon-state.ts, use-logs-stream.ts, use-route-table.ts,
// use-gateway-*.ts, use-section-save.ts, use-add-peer.ts, and the Tauri
// shell's src-tauri/src/daemon/state.rs: subscriptions with null params, a
// reconnect that restores them), with its 1 s polls running throughout. A
// second real daemon on the same link is the peer it adds, pairs, removes
// and forgets. Every answer and notification is type-checked against the
// wire types of docs/RPC.md; what the dashboard relies on beyond types is
// checked here.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import { prepareNode, startDaemon, waitUntil, writeConfig, type MeshNode } from '../ts/lab/mesh.js';
import type { Lab } from '../ts/lab/netns.js';
import { contractProblems, type Recorded } from './helpers/contract.js';
import { ShellConnection, type Json } from './helpers/dashboard-shell.js';
import { labTests } from './helpers/lab.js';

const labTest = labTests({ prefix: 'dash', timeoutMs: 240_000 });

const DOC = fs.readFileSync(`${__dirname}/../../docs/RPC.md`, 'utf8');
const DOCUMENTED_CODES = new Set([...DOC.matchAll(/^\| `[a-z_]+` \| (-\d+) \|/gm)].map((m) => Number(m[1])));

/** pim-ui's 1 s freshness pulse (use-daemon-state.ts pollSnapshot): status and peers.discovered, one round at a time. */
function startPolls(shell: ShellConnection): () => Promise<void> {
  let inFlight: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (inFlight !== null) return; // pim-ui skips a tick while the last round is out
    inFlight = Promise.all([shell.call('status'), shell.call('peers.discovered')]).finally(() => (inFlight = null));
  }, 1000);
  return async () => {
    clearInterval(timer);
    await inFlight;
  };
}

/** What the shell does when its daemon connection (re)enters `running`: hello, status, and the UI's seed and subscriptions. */
async function attach(shell: ShellConnection): Promise<void> {
  await shell.ok('rpc.hello', { client: 'pim-ui/0.1.3', rpc_version: 1 });
  await shell.ok('status');
  // use-daemon-state.ts seedAndSubscribe; the logs lifecycle (use-logs-stream.ts) at the same time.
  await Promise.all([shell.ok('status'), shell.ok('peers.discovered'), shell.ok('logs.subscribe', { min_level: 'trace', sources: [] }), shell.ok('logs.subscribe')]);
  await shell.ok('status.subscribe');
  await shell.ok('peers.subscribe');
}

const notified = (shell: ShellConnection, method: string, kind?: string): Json[] =>
  shell.notifications.filter((n) => n.method === method && (kind === undefined || n.params.kind === kind)).map((n) => n.params);

function waitFor(shell: ShellConnection, what: string, method: string, kind: string, timeoutMs = 20_000): Promise<Json> {
  return waitUntil(`${what} (${method} ${kind})`, timeoutMs, async () => notified(shell, method, kind)[0]);
}

/** Every call answered as expected, every value of the right type (docs/RPC.md), every error code documented. */
function checkRecorded(t: ExecutionContext, name: string, shell: ShellConnection, refused: ReadonlyMap<string, number>): void {
  const values: Recorded[] = [];
  for (const e of shell.exchanges) {
    const what = `${name} #${e.id} ${e.method}`;
    const expected = refused.get(`${e.method} ${JSON.stringify(e.params)}`);
    if (e.answer === undefined) {
      t.fail(`${what} was never answered`);
    } else if ('error' in e.answer) {
      t.is<number | undefined, number | undefined>(e.answer.error.code, expected, `${what} ${JSON.stringify(e.params)}: ${e.answer.error.message}`);
      t.true(DOCUMENTED_CODES.has(e.answer.error.code), `${what}: code ${e.answer.error.code} is in docs/RPC.md's table`);
    } else {
      t.is(expected, undefined, `${what} ${JSON.stringify(e.params)} succeeded`);
      values.push({ what: `${what} params`, type: `Methods['${e.method}']['params']`, value: e.params });
      values.push({ what: `${what} result`, type: `Methods['${e.method}']['result']`, value: e.answer.result });
    }
  }
  shell.notifications.forEach((n, i) => values.push({ what: `${name} notification ${i} ${n.method} ${n.params.kind ?? ''}`, type: `Events['${n.method}']`, value: n.params }));
  t.deepEqual(contractProblems(values), [], `${name}: ${values.length} values against docs/RPC.md`);
  const kinds = [...new Set(shell.notifications.map((n) => `${n.method} ${n.params.kind ?? ''}`.trim()))];
  t.log(`${name}: ${shell.exchanges.length} calls and ${shell.notifications.length} notifications (${kinds.join(', ')}) checked`);
  // The Logs tab keeps every line it gets: none may come twice.
  const lines = notified(shell, 'logs.event').map((e) => `${e.ts} ${e.message}`);
  t.is(new Set(lines).size, lines.length, `${name}: no log line twice`);
}

async function twoNodes(lab: Lab): Promise<{ a: MeshNode; b: MeshNode; natInterface: string; addrB: string }> {
  const [na, nb] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(na, nb, { subnet: '198.18.0.0/24' });
  const a = await prepareNode(lab, na, { label: 'alpha' });
  const b = await prepareNode(lab, nb, { label: 'bravo' });
  for (const m of [a, b]) {
    // LAN discovery on, announcing every 2 s: the Add-peer form gives only an address.
    writeConfig(m, [], { label: m.label, discoveryIntervalS: 2 });
  }
  return { a, b, natInterface: link.ifA, addrB: link.addrB };
}

labTest("pim-ui's session against a real daemon: every call answered as docs/RPC.md says, every event of its type, through a reconnect and a stop", async (t, lab) => {
  const { a, b, natInterface, addrB } = await twoNodes(lab);
  const daemonA = await startDaemon(lab, a);
  await startDaemon(lab, b);

  const shell = await ShellConnection.open(a.socketPath);
  await attach(shell);
  const stopPolls = startPolls(shell);
  // Screens mounting: the gateway notifications listener, the routing screen, messages.
  await shell.ok('status.subscribe');
  await shell.ok('peers.subscribe');
  await shell.ok('route.table');
  await shell.ok('status.subscribe');
  await shell.call('messages.list_conversations');
  await shell.call('peers.get_broadcast_state');

  // Settings: rename the node (use-section-save.ts: dry run, save, refetch).
  const before = await shell.ok('config.get', { format: 'toml' });
  const doc = (before.config as string).replace('name = "alpha"', 'name = "alpha-renamed"');
  t.deepEqual(await shell.ok('config.save', { format: 'toml', config: doc, dry_run: true }), { saved: false, requires_restart: [], written_to: null });
  t.like(await shell.ok('config.save', { format: 'toml', config: doc, dry_run: false }), { saved: true, requires_restart: [] });
  t.is((await shell.ok('config.get', { format: 'toml' })).config, doc);
  t.is((await shell.ok('status')).node, 'alpha-renamed');

  // Leaving the routing screen: the shell unsubscribes without an id, which must not end the other screens' subscriptions.
  await shell.call('status.unsubscribe');

  // Routing: internet via the mesh with no gateway (the kill-switch engages), then off.
  t.deepEqual(await shell.ok('route.set_split_default', { on: true }), { on: true, via_gateway_id: null });
  t.like(await waitFor(shell, 'the kill-switch', 'status.event', 'kill_switch'), { detail: { engaged: true } });
  await waitFor(shell, 'route on', 'status.event', 'route_on');
  await shell.ok('route.table');
  await shell.ok('route.set_split_default', { on: false });
  await waitFor(shell, 'route off', 'status.event', 'route_off');

  // Gateway: preflight, enable on the link, status on each gateway.event (which the shell cannot subscribe to), disable.
  t.like(await shell.ok('gateway.preflight'), { supported: true, platform: 'linux' });
  t.deepEqual(await shell.ok('gateway.enable', { nat_interface: natInterface }), { active: true, nat_interface: natInterface, advertised_routes: ['0.0.0.0/0'] });
  t.like(await waitFor(shell, 'the gateway on', 'gateway.event', 'enabled'), { detail: { nat_interface: natInterface } });
  t.like(await shell.ok('gateway.status'), { active: true, nat_interface: natInterface });
  t.true((await shell.ok('status')).role.includes('gateway'));
  await shell.ok('gateway.disable');
  await waitFor(shell, 'the gateway off', 'gateway.event', 'disabled');
  t.like(await shell.ok('gateway.status'), { active: false });
  await waitUntil('role_changed back to client', 20_000, async () => (notified(shell, 'status.event', 'role_changed').at(-1)?.detail.role.join() === 'client' ? true : undefined));

  // Peers: the Add-peer form with an address LAN discovery heard, pair, remove, forget.
  const address = `${addrB}:9100`;
  await waitUntil('bravo in peers.discovered', 30_000, async () => ((await shell.ok<Json[]>('peers.discovered')).some((d) => d.address === address) ? true : undefined));
  t.deepEqual(await shell.ok('peers.add_static', { address, mechanism: 'tcp', label: 'bravo' }), { node_id: b.nodeId, config_entry_id: `peers/${b.nodeId}` });
  await waitUntil('bravo connected', 30_000, async () => notified(shell, 'peers.event', 'connected').find((e) => e.peer.node_id === b.nodeId));
  const paired = await shell.ok('peers.pair', { node_id: b.nodeId, trust: 'persist' });
  t.like(paired, { node_id: b.nodeId, label: 'bravo', state: 'active', static: true });
  t.is(typeof paired.last_seen_s, 'number');
  t.is(await shell.ok<null>('peers.remove', { node_id: b.nodeId }), null);
  const listed = (await shell.ok('status')).peers.find((p: Json) => p.node_id === b.nodeId);
  t.like(listed, { static: false, label: null }, 'paired, no longer configured');
  t.is(typeof listed.last_seen_s, 'number', 'a paired peer always has last_seen_s');
  t.deepEqual(await shell.ok('peers.forget', { node_id: b.nodeId, also_delete_messages: false }), { forgot_identity: true, deleted_messages: 0, deleted_conversation: false });

  await stopPolls();
  checkRecorded(
    t,
    'first connection',
    shell,
    new Map([
      ['status.unsubscribe null', -32602],
      ['messages.list_conversations null', -32601],
      ['peers.get_broadcast_state null', -32601],
    ]),
  );
  t.true(notified(shell, 'logs.event').length > 0 && notified(shell, 'logs.event').every((e) => e.level !== 'fatal'));

  // The daemon connection drops; the shell reconnects and restores its subscriptions with null params.
  shell.close();
  await shell.closed;
  const again = await ShellConnection.open(a.socketPath);
  await attach(again);
  const stopPolls2 = startPolls(again);
  await again.ok('route.set_split_default', { on: true });
  await again.ok('route.set_split_default', { on: false });
  await waitFor(again, 'route off after the reconnect', 'status.event', 'route_off');
  await stopPolls2();

  // Stop: the shell kills the daemon; its last word is interface_down.
  daemonA.kill('SIGTERM');
  await again.closed;
  t.deepEqual(notified(again, 'status.event', 'interface_down')[0]?.detail, { interface: 'pim0' });
  t.like(await daemonA.waitExit(15_000), { code: 0 });
  checkRecorded(t, 'after the reconnect', again, new Map());
});
