// Which stops lift the kill-switch, and what [route] dns asks of the OS: the
// real Daemon with the FakeEngine and a network that records the calls. The
// namespace tests (integration-killswitch) show the same end to end.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { noNetwork, type OsNetwork } from '../ts/routing/os-network.js';
import { eventually, startTestDaemon, type TestDaemon } from './helpers/daemon.js';

type Json = Record<string, unknown>;

/** Records each change the daemon asks of the OS; changes nothing. `subnets` is what the host "has". */
function recordingNetwork(): { network: OsNetwork; calls: string[]; subnets: string[] } {
  const calls: string[] = [];
  // A home LAN, and a public subnet a hostile network handed out too.
  const subnets = ['192.168.7.0/24', '192.0.2.0/24'];
  const record =
    (name: string) =>
    async (...args: unknown[]): Promise<void> => {
      calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
    };
  const network: OsNetwork = {
    ...noNetwork,
    localSubnets: async () => [...subnets],
    installSplitDefault: record('installSplitDefault'),
    removeSplitDefault: record('removeSplitDefault'),
    installKillSwitch: record('installKillSwitch'),
    removeKillSwitch: record('removeKillSwitch'),
    setResolvers: record('setResolvers'),
    restoreResolvers: record('restoreResolvers'),
  };
  return { network, calls, subnets };
}

interface Harness extends TestDaemon {
  calls: string[];
  subnets: string[];
  logs: Json[];
}

async function start(t: ExecutionContext, route: string): Promise<Harness> {
  const { network, calls, subnets } = recordingNetwork();
  const logs: Json[] = [];
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-killswitch-',
    writeConfig: (dir, configPath) =>
      fs.writeFileSync(
        configPath,
        `[security]\nkey_file = ${JSON.stringify(path.join(dir, 'node.key'))}\n[interface]\nname = "pimks0"\n[transport]\nlisten_port = 0\nbind = "127.0.0.1"\n[discovery]\nenabled = false\n[trust]\nstore = ${JSON.stringify(path.join(dir, 'trust.json'))}\n[rpc]\nsocket = ${JSON.stringify(path.join(dir, 'pim.sock'))}\n[route]\ninternet_via_mesh = true\n${route}`,
      ),
    clientName: 'killswitch-test',
    network,
    onLog: (line) => void logs.push(line),
  });
  t.true(calls.some((c) => c.startsWith('installKillSwitch(')), 'routing came on at start');
  return { ...d, calls, subnets, logs };
}

const lifts = (calls: readonly string[]): string[] => calls.filter((c) => /^(removeKillSwitch|removeSplitDefault|restoreResolvers)\(/.test(c));

test('an engine fault stops the daemon with exit 1 and lifts nothing: the kill-switch stays', async (t) => {
  const h = await start(t, '');
  const before = h.calls.length;
  h.fake.emit({ kind: 'fault', message: 'data-plane thread pim-outbound panicked' });
  await eventually(t, 'onStopped', () => h.stoppedWith.length > 0);
  t.deepEqual(h.stoppedWith, [1]);
  t.deepEqual(lifts(h.calls.slice(before)), [], 'no route, rule, table or resolver was removed');
  t.like(h.logs.find((l) => l.event === 'kill_switch_kept'), { reason: 'crash' });
});

test('a clean stop lifts the kill-switch; with [route] lockdown it does not', async (t) => {
  for (const [route, lifted] of [['', true], ['lockdown = true\n', false]] as const) {
    const h = await start(t, route);
    t.is((await (await h.client()).call<Json>('status')).lockdown, !lifted);
    const before = h.calls.length;
    await h.daemon.stop();
    t.is(lifts(h.calls.slice(before)).length > 0, lifted, `${route || 'no lockdown'}: ${h.calls.slice(before).join(' ')}`);
    t.is(h.logs.some((l) => l.event === 'kill_switch_kept' && l.reason === 'lockdown'), !lifted);
  }
});

test('[route] dns: the block allows only those resolvers and the system resolver points at them; a reload with new ones reapplies both; route off restores', async (t) => {
  const h = await start(t, 'dns = ["9.9.9.9"]\n');
  t.true(h.calls.includes('installKillSwitch("pimks0", {"subnets":["192.168.7.0/24"],"dns":["9.9.9.9"]})'), h.calls.join('\n'));
  t.true(h.calls.includes('setResolvers("pimks0", ["9.9.9.9"])'));
  const before = h.calls.length;
  fs.writeFileSync(h.configPath, fs.readFileSync(h.configPath, 'utf8').replace('"9.9.9.9"', '"9.9.9.9", "149.112.112.112"'));
  t.true((await h.daemon.reload()).applied);
  t.deepEqual(h.calls.slice(before), [
    'installKillSwitch("pimks0", {"subnets":["192.168.7.0/24"],"dns":["9.9.9.9","149.112.112.112"]})',
    'setResolvers("pimks0", ["9.9.9.9","149.112.112.112"])',
  ]);
  const c = await h.client();
  const off = h.calls.length;
  await c.call('route.set_split_default', { on: false });
  t.deepEqual(h.calls.slice(off), ['restoreResolvers("pimks0")', 'removeSplitDefault()', 'removeKillSwitch()'], 'the resolver first, then the block');
});

test('only private local subnets are exempt from the block; a public one is logged once; a change of networks replaces the block within seconds', async (t) => {
  const h = await start(t, '');
  t.true(h.calls.includes('installKillSwitch("pimks0", {"subnets":["192.168.7.0/24"],"dns":[]})'), h.calls.join('\n'));
  t.like(h.logs.find((l) => l.event === 'local_subnets_blocked'), { subnets: ['192.0.2.0/24'] });
  // Another network joined, the old one gone.
  const before = h.calls.length;
  h.subnets.splice(0, h.subnets.length, '10.20.0.0/16', '192.0.2.0/24');
  const replaced = 'installKillSwitch("pimks0", {"subnets":["10.20.0.0/16"],"dns":[]})';
  await eventually(t, 'the block for the new local subnets', () => h.calls.slice(before).includes(replaced), 15_000);
  t.deepEqual(h.calls.slice(before), [replaced], 'only the block changes, once');
  t.is(h.logs.filter((l) => l.event === 'local_subnets_blocked').length, 1, 'the same refused subnet is logged once');
  // Route off: no later check puts a block back.
  await (await h.client()).call('route.set_split_default', { on: false });
  const off = h.calls.length;
  h.subnets.push('192.168.50.0/24');
  // A check interval and more: a negative has no event to wait for.
  await new Promise((r) => setTimeout(r, 6000));
  t.deepEqual(h.calls.slice(off), [], 'nothing installed while routing is off');
});
