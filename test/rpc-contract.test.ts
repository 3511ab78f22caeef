// docs/RPC.md's wire types are a real check: they compile, they declare
// exactly the methods the daemon serves, real answers conform, and answers
// that break the contract are caught and named.

import test from 'ava';
import * as fs from 'node:fs';
import { buildMethods, type MethodDeps } from '../ts/rpc/methods/index.js';
import { testConfigText } from './helpers/config.js';
import { contractMethods, contractProblems } from './helpers/contract.js';
import { startTestDaemon } from './helpers/daemon.js';

type Json = Record<string, any>;

test("the page's types compile on their own", (t) => {
  t.deepEqual(contractProblems([]), []);
});

test('the page declares a type for exactly the methods the daemon serves (and rpc.hello)', (t) => {
  const served = Object.keys(buildMethods({} as MethodDeps));
  t.deepEqual(contractMethods().sort(), [...served, 'rpc.hello'].sort());
});

test('real answers conform; a field missing, added, mistyped or out of its enum is named', async (t) => {
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-contract-',
    clientName: 'contract-test',
    writeConfig: (dir, configPath) => fs.writeFileSync(configPath, testConfigText(dir, { name: 'c' })),
  });
  const c = await d.client();
  const status = await c.call<Json>('status');
  const table = await c.call<Json>('route.table');
  const statusType = "Methods['status']['result']";
  t.deepEqual(
    contractProblems([
      { what: 'status', type: statusType, value: status },
      { what: 'route.table', type: "Methods['route.table']['result']", value: table },
    ]),
    [],
  );
  const broken: [string, Json, string][] = [
    ['an old role', { ...status, role: ['node'] }, '"node"'],
    ['routes.expired missing', { ...status, routes: { active: 0, selected_gateway: null } }, 'expired'],
    ['an undeclared field', { ...status, bogus: 1 }, 'bogus'],
    ['conntrack_size a number', { ...status, stats: { ...status.stats, conntrack_size: 3 } }, 'conntrack_size'],
  ];
  for (const [what, value, named] of broken) {
    const problems = contractProblems([{ what, type: statusType, value }]);
    t.is(problems.length, 1, `${what}: ${problems.join('\n')}`);
    t.true(problems[0]!.startsWith(`${what} as ${statusType}: `) && problems[0]!.includes(named), problems[0]);
  }
  const fatal = contractProblems([{ what: 'a log line', type: "Events['logs.event']", value: { ts: status.started_at, level: 'fatal', source: 'pim-daemon', message: 'x', at: status.started_at } }]);
  t.is(fatal.length, 1, 'fatal is not a wire level');
  const halfPeer = contractProblems([
    { what: 'a peer event', type: "Events['peers.event']", value: { kind: 'connected', at: status.started_at, peer: { node_id: 'a', node_id_short: 'a', endpoint: null, x25519_pubkey: 'k', state: 'active' } } },
  ]);
  t.is(halfPeer.length, 1, 'a peer with a state must be a whole PeerSummary');
});
