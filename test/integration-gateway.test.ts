// "Route internet via mesh" and the kill-switch (issue 6, docs/SECURITY.md),
// end to end with real daemons, kernel routing and nftables in network
// namespaces. Packet captures are the judge of leaks. Root only.
//
//   C (client) ── U (uplink router, ip_forward on) ── I (internet host, 203.0.113.2)
//                 │
//                 G (gateway: [gateway] enabled, NAT out of its veth to U)
//
// C and G are static peers on different subnets (routed by U), so the
// daemon's own UDP must keep using the underlay via its fwmark. Some tests
// add M, a stranger on U: it knows C's key, dials it (C admits it on first
// use) and offers itself as a gateway too, NATing out of its own veth.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCapture } from '../ts/lab/capture.js';
import type { RunResult } from '../ts/lab/exec.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, waitUntil, writeConfig, type MeshNode } from '../ts/lab/mesh.js';
import { Lab, type Link, type LabProcess, type Node } from '../ts/lab/netns.js';
import type { Frame } from '../ts/lab/pcap.js';
import { RpcClient } from '../ts/rpc/client.js';
import { labTests, pim, pimOk } from './helpers/lab.js';

// npx and npm put node_modules/.bin first on PATH, and ava depends on
// @vercel/nft, whose CLI is also called `nft`: it accepts `nft -f -`,
// `nft list …`, `nft --version` and exits 0. The daemons here (and the
// checks) must use the system's nftables, so this file's process — and every
// daemon it starts — runs with node_modules/.bin removed from PATH; the
// checks call nft by absolute path. The last test shows what happens when
// the daemon inherits the npm PATH.
const NPM_BIN = path.resolve(__dirname, '..', '..', 'node_modules', '.bin');
const SYSTEM_PATH = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
  .split(':')
  .filter((d) => d !== '' && !d.split(path.sep).includes('node_modules'))
  .join(':');
process.env.PATH = SYSTEM_PATH;
const NFT = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft', '/bin/nft'].find((p) => fs.existsSync(p)) ?? 'nft';

/** Liveness detection is 12 s; the issue allows "within liveness detection" plus slack. */
const KILL_SWITCH_WITHIN_MS = 15_000;
/** ROLE_TTL_MS (35 s) plus slack: the longest a withdrawn gateway role may linger. */
const ROLE_GONE_WITHIN_MS = 42_000;
const ROUTE_TABLE = '7069';

type Json = Record<string, unknown>;

const labTest = labTests({ prefix: 'gw', serial: true, timeoutMs: 150_000 });

// ── The topology ────────────────────────────────────────────────────────────

interface OsState {
  rules: string;
  mainRoutes: string;
  nft: string;
}

interface World {
  c: Node;
  u: Node;
  g: Node;
  i: Node;
  C: MeshNode;
  G: MeshNode;
  procC: LabProcess;
  procG: LabProcess;
  /** U (.1) ↔ C (.2); ifB is C's uplink veth. */
  cLink: Link;
  /** U (.1) ↔ G (.2); ifB is G's NAT interface. */
  gLink: Link;
  /** U (.1) ↔ I (.2); ifB is I's interface. */
  iLink: Link;
  cAddr: string;
  gAddr: string;
  iAddr: string;
  /** U's address on C's link: the local subnet that must stay reachable. */
  uOnC: string;
  /** G's net.ipv4.ip_forward before its daemon started. */
  gForwardBefore: string;
  /** C's and G's OS routing/firewall before any daemon started. */
  cBefore: OsState;
  gBefore: OsState;
  /** The stranger, when asked for. */
  stranger?: { m: Node; M: MeshNode; procM: LabProcess; mLink: Link };
}

async function osState(lab: Lab, n: Node): Promise<OsState> {
  return {
    rules: (await lab.exec(n, 'ip', ['-4', 'rule', 'show'])).stdout,
    mainRoutes: (await lab.exec(n, 'ip', ['-4', 'route', 'show', 'table', 'main'])).stdout,
    nft: (await lab.exec(n, NFT, ['list', 'ruleset'])).stdout,
  };
}

async function world(lab: Lab, opts: { daemonPath?: string; stranger?: boolean } = {}): Promise<World> {
  const [c, u, g, i] = await Promise.all(['c', 'u', 'g', 'i'].map((n) => lab.addNode(n)));
  const cLink = await lab.link(u!, c!, { subnet: '198.18.1.0/24' });
  const gLink = await lab.link(u!, g!, { subnet: '198.18.2.0/24' });
  const iLink = await lab.link(u!, i!, { subnet: '203.0.113.0/24' });
  await lab.exec(u!, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await lab.exec(c!, 'ip', ['route', 'add', 'default', 'via', cLink.addrA]);
  await lab.exec(g!, 'ip', ['route', 'add', 'default', 'via', gLink.addrA]);
  await lab.exec(i!, 'ip', ['route', 'add', 'default', 'via', iLink.addrA]);

  const C = await prepareNode(lab, c!, { label: 'client' });
  const G = await prepareNode(lab, g!, { label: 'gw' });
  writeConfig(C, [{ address: `${gLink.addrB}:9100`, publicKey: G.publicKey, label: 'gw' }], { label: 'client' });
  writeConfig(G, [{ address: `${cLink.addrB}:9100`, publicKey: C.publicKey, label: 'client' }], {
    label: 'gw',
    extraToml: `[gateway]\nenabled = true\nnat_interface = "${gLink.ifB}"\n`,
  });
  const gForwardBefore = await readForward(lab, g!);
  const cBefore = await osState(lab, c!);
  const gBefore = await osState(lab, g!);

  // The daemons inherit this process's environment when spawned (synchronously, in startDaemon).
  if (opts.daemonPath !== undefined) process.env.PATH = opts.daemonPath;
  let starting: Promise<[LabProcess, LabProcess]>;
  try {
    starting = Promise.all([startDaemon(lab, C), startDaemon(lab, G)]);
  } finally {
    process.env.PATH = SYSTEM_PATH;
  }
  const [procC, procG] = await starting;
  await Promise.all([waitForPeerState(C, G, 'active', 15_000), waitForPeerState(G, C, 'active', 15_000)]);
  // G's role advertisement reached C.
  await waitUntil('C to know G as a gateway', 15_000, async () => {
    const table = (await rpcCall(C, 'route.table')) as { gateways: Json[] };
    return table.gateways.some((gw) => gw.node_id === G.nodeId) ? true : undefined;
  });
  return {
    ...(opts.stranger ? { stranger: await addStranger(lab, u!, C, cLink) } : {}),
    c: c!,
    u: u!,
    g: g!,
    i: i!,
    C,
    G,
    procC,
    procG,
    cLink,
    gLink,
    iLink,
    cAddr: cLink.addrB,
    gAddr: gLink.addrB,
    iAddr: iLink.addrB,
    uOnC: cLink.addrA,
    gForwardBefore,
    cBefore,
    gBefore,
  };
}

/** M: a real pim gateway on U that lists C (so it dials C), unknown to C. */
async function addStranger(lab: Lab, u: Node, C: MeshNode, cLink: Link): Promise<NonNullable<World['stranger']>> {
  const m = await lab.addNode('m');
  const mLink = await lab.link(u, m, { subnet: '198.18.3.0/24' });
  await lab.exec(m, 'ip', ['route', 'add', 'default', 'via', mLink.addrA]);
  const M = await prepareNode(lab, m, { label: 'stranger' });
  writeConfig(M, [{ address: `${cLink.addrB}:9100`, publicKey: C.publicKey, label: 'client' }], {
    label: 'stranger',
    extraToml: `[gateway]\nenabled = true\nnat_interface = "${mLink.ifB}"\n`,
  });
  const procM = await startDaemon(lab, M);
  await waitForPeerState(C, M, 'active', 15_000);
  return { m, M, procM, mLink };
}

// ── Helpers ─────────────────────────────────────────────────────────────────

const status = (m: MeshNode): Promise<Json> => rpcCall(m, 'status') as Promise<Json>;

function selectedGateway(s: Json): unknown {
  return (s.routes as Json).selected_gateway;
}

async function readForward(lab: Lab, n: Node): Promise<string> {
  return (await lab.exec(n, 'cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout.trim();
}

async function ping(lab: Lab, from: Node, to: string, count = 3): Promise<RunResult> {
  return lab.exec(from, 'ping', ['-n', '-c', String(count), '-i', '0.2', '-W', '1', to], { allowFailure: true, timeoutMs: 20_000 });
}

const pingOk = (r: RunResult): boolean => / 0% packet loss/.test(r.stdout);
const pingReceived = (r: RunResult): number => Number(/(\d+) received/.exec(r.stdout)?.[1] ?? '0');

/**
 * Everything a program on C might send to the internet host: ICMP, a TCP
 * connect and a UDP datagram (bash's /dev/tcp and /dev/udp; no nc here).
 */
async function probeInternet(lab: Lab, c: Node, iAddr: string): Promise<{ ping: RunResult; tcp: RunResult; udp: RunResult }> {
  const pingR = await ping(lab, c, iAddr, 5);
  const tcp = await lab.exec(c, 'timeout', ['4', 'bash', '-c', `echo hello > /dev/tcp/${iAddr}/80`], { allowFailure: true, timeoutMs: 10_000 });
  const udp = await lab.exec(c, 'timeout', ['4', 'bash', '-c', `for n in 1 2 3; do echo hello > /dev/udp/${iAddr}/53; done`], { allowFailure: true, timeoutMs: 10_000 });
  return { ping: pingR, tcp, udp };
}

const describeFrame = (f: Frame): string =>
  `${f.ip?.src} > ${f.ip?.dst} proto ${f.ip?.protocol}${f.udp ? ` udp ${f.udp.srcPort}>${f.udp.dstPort}` : ''}`;

/** Frames to or from the internet host. */
const toInternet = (frames: Frame[], iAddr: string): Frame[] => frames.filter((f) => f.ip?.dst === iAddr || f.ip?.src === iAddr);

/**
 * What left C on its uplink that is neither for the local subnet nor the
 * daemon's encrypted UDP to a mesh peer's underlay address (port 9100).
 */
function unexpectedEgress(frames: Frame[], w: World): Frame[] {
  const localPrefix = w.cAddr.split('.').slice(0, 3).join('.') + '.';
  return frames.filter((f) => {
    if (f.ip === undefined || f.ip.src !== w.cAddr) return false;
    if (f.ip.dst.startsWith(localPrefix)) return false;
    return !(f.udp !== undefined && f.ip.dst === w.gAddr && f.udp.dstPort === 9100);
  });
}

async function splitRoutes(lab: Lab, c: Node): Promise<string> {
  return (await lab.exec(c, 'ip', ['-4', 'route', 'show', 'table', ROUTE_TABLE], { allowFailure: true })).stdout;
}

async function nftTables(lab: Lab, n: Node): Promise<string> {
  return (await lab.exec(n, NFT, ['list', 'tables'])).stdout;
}

/** Subscribes to status.event on a daemon; the events arrive in `events`. */
async function statusEvents(t: ExecutionContext, m: MeshNode): Promise<Json[]> {
  const client = await RpcClient.connect(m.socketPath, { client: 'pim-gateway-test' });
  t.teardown(() => client.close());
  const events: Json[] = [];
  client.onNotification((method, params) => {
    if (method === 'status.event') events.push(params as Json);
  });
  const r = await client.call<Json>('status.subscribe');
  if (typeof r?.subscription_id !== 'string') throw new Error(`status.subscribe answered ${JSON.stringify(r)}`);
  return events;
}

/** `pim route on` on C, then waits until G is the selected gateway. */
async function routeOn(t: ExecutionContext, w: World): Promise<string> {
  const out = await pimOk(t, w.C, 'route', 'on');
  await waitUntil('C to select G', 10_000, async () => (selectedGateway(await status(w.C)) === w.G.nodeId ? true : undefined));
  return out;
}

/** Pings I from C with captures on I and on C's uplink. */
async function pingThroughCaptures(lab: Lab, w: World): Promise<{ ping: RunResult; atI: Frame[]; onUplink: Frame[] }> {
  const capI = await startCapture(lab, w.i, w.iLink.ifB, { filter: 'icmp' });
  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const r = await ping(lab, w.c, w.iAddr, 5);
  const [atI, onUplink] = [await capI.stop(), await capC.stop()];
  return { ping: r, atI, onUplink };
}

/** Echo requests that reached I, by source address. */
const requestSources = (frames: Frame[], iAddr: string): string[] =>
  [...new Set(frames.filter((f) => f.ip?.dst === iAddr && f.ip.protocol === 1 && f.ip.payload[0] === 8).map((f) => f.ip!.src))];

function noPimLeftovers(t: ExecutionContext, where: string, routes: string, rules: string, tables: string): void {
  t.is(routes.trim(), '', `${where}: table ${ROUTE_TABLE} is empty`);
  t.false(/^(7068|7069):/m.test(rules), `${where}: no pref 7068/7069 rules:\n${rules}`);
  t.false(tables.includes('pim_killswitch'), `${where}: no pim_killswitch table:\n${tables}`);
}

async function dump(t: ExecutionContext, lab: Lab, w: World, frames: Frame[]): Promise<void> {
  for (const [n, cmd] of [[w.c, `${NFT} list ruleset`], [w.c, 'ip rule'], [w.c, 'ip route show table 7069'], [w.c, 'ip route'], [w.g, `${NFT} list ruleset`], [w.g, 'ip route'], [w.g, 'cat /proc/sys/net/ipv4/ip_forward']] as const) {
    const r = await lab.exec(n, 'sh', ['-c', cmd], { allowFailure: true });
    t.log(`${n.name}$ ${cmd}\n${r.stdout}${r.stderr}`);
  }
  t.log(frames.map(describeFrame).join('\n'));
  t.log(JSON.stringify(await status(w.C)));
  t.log(JSON.stringify(await status(w.G)));
  t.log(fs.readFileSync(`${w.C.dir}/daemon.log`, 'utf8'));
  t.log(fs.readFileSync(`${w.G.dir}/daemon.log`, 'utf8'));
}

// ── 1. Routing off ──────────────────────────────────────────────────────────

labTest('routing off: C reaches I directly, I sees C\'s own underlay address', async (t, lab) => {
  const w = await world(lab);
  const s = await status(w.C);
  t.false(s.route_on);
  t.false(s.kill_switch);
  const { ping: r, atI } = await pingThroughCaptures(lab, w);
  t.true(pingOk(r), r.stdout);
  t.deepEqual(requestSources(atI, w.iAddr), [w.cAddr], 'I sees C itself as the source');
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^routing: direct/);
});

// ── 2. Routing on ───────────────────────────────────────────────────────────

labTest('routing on: I sees G as the source, C\'s uplink carries only UDP to G, status and route.table name G', async (t, lab) => {
  const w = await world(lab);
  const on = await routeOn(t, w);
  t.regex(on, /^routing: (internet via gateway|BLOCKING)/, 'route on prints the routing state');

  const { ping: r, atI, onUplink } = await pingThroughCaptures(lab, w);
  if (!pingOk(r)) await dump(t, lab, w, [...atI, ...onUplink]);
  t.true(pingOk(r), r.stdout);
  t.deepEqual(requestSources(atI, w.iAddr), [w.gAddr], "I sees G's address, never C's");
  t.deepEqual(toInternet(onUplink, w.iAddr).map(describeFrame), [], "no packet to I in clear on C's uplink");
  t.deepEqual(unexpectedEgress(onUplink, w).map(describeFrame), [], "C's uplink: only UDP 9100 to G (and the local subnet)");
  t.true(onUplink.some((f) => f.udp?.dstPort === 9100 && f.ip?.dst === w.gAddr), 'the pings went as UDP to G');

  const s = await status(w.C);
  t.true(s.route_on);
  t.false(s.kill_switch);
  t.is(selectedGateway(s), w.G.nodeId);
  const routeStatus = await pimOk(t, w.C, 'route', 'status');
  t.true(routeStatus.includes(`internet via gateway ${w.G.nodeId}`), routeStatus);
  t.false(routeStatus.includes('BLOCKING'));
  const table = (await rpcCall(w.C, 'route.table')) as { gateways: Json[] };
  t.deepEqual(
    table.gateways.map((g) => [g.node_id, g.selected]),
    [[w.G.nodeId, true]],
    'route.table lists G, selected',
  );
  const statusLine = (await pimOk(t, w.C, 'status')).split('\n')[0]!;
  t.notRegex(statusLine, /BLOCKING/);

  // The OS side: split routes in the policy table, the kill-switch table armed.
  const routes = await splitRoutes(lab, w.c);
  t.regex(routes, /^0\.0\.0\.0\/1 dev pim0/m);
  t.regex(routes, /^128\.0\.0\.0\/1 dev pim0/m);
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'));
  // The gateway's side: NAT table and forwarding on.
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'));
  t.is(await readForward(lab, w.g), '1');
  const gw = JSON.parse(await pimOk(t, w.G, 'gateway', 'status', '--json')) as Json;
  t.like(gw, { active: true, nat_interface: w.gLink.ifB });
});

// ── 3. The gateway's daemon dies ───────────────────────────────────────────

labTest('gateway SIGKILLed: C blocks within liveness detection, banner and event, routes stay, 0 packets to I on C\'s uplink', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  const events = await statusEvents(t, w.C);

  // One capture from before the kill until after the probes: nothing may reach I's
  // address from C directly, neither while C still believes in G nor once it blocks.
  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const background = lab.spawn(w.c, 'ping', ['-n', '-i', '0.2', '-W', '1', w.iAddr]);
  const killedAt = Date.now();
  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  await waitUntil('C to engage the kill-switch', KILL_SWITCH_WITHIN_MS, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  const detectMs = Date.now() - killedAt;
  t.log(`kill-switch engaged ${detectMs} ms after the gateway was killed`);
  t.true(detectMs <= KILL_SWITCH_WITHIN_MS);

  const probes = await probeInternet(lab, w.c, w.iAddr);
  background.kill('SIGINT');
  await background.waitExit(5000).catch(() => undefined);
  const frames = await capC.stop();

  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink");
  t.deepEqual(unexpectedEgress(frames, w).map(describeFrame), [], "C's uplink: nothing but UDP 9100 to G and the local subnet");
  t.is(pingReceived(probes.ping), 0, `ping to I fails: ${probes.ping.stdout}${probes.ping.stderr}`);
  t.not(probes.tcp.code, 0, 'a TCP connect to I fails');

  // The local subnet stays reachable.
  const local = await ping(lab, w.c, w.uOnC);
  t.true(pingOk(local), `the local subnet (U at ${w.uOnC}) stays reachable: ${local.stdout}${local.stderr}`);

  // Status, banner, event.
  const s = await status(w.C);
  t.true(s.route_on);
  t.true(s.kill_switch);
  t.is(selectedGateway(s), null);
  t.true(Number(((s.stats as Json).drops as Json).no_gateway) > 0, 'the engine counted the packets it dropped');
  const statusOut = await pimOk(t, w.C, 'status');
  t.regex(statusOut.split('\n')[0]!, /^BLOCKING INTERNET/, statusOut);
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^BLOCKING INTERNET: .*no gateway is reachable/);
  const ks = await waitUntil('a kill_switch status.event', 2000, async () => events.find((e) => e.kind === 'kill_switch'));
  t.like(ks, { kind: 'kill_switch', detail: { engaged: true } });
  t.true(events.some((e) => e.kind === 'gateway_lost' && (e.detail as Json).node_id === w.G.nodeId), 'gateway_lost was sent');

  // The split routes are still installed: internet is blocked, not routed around the mesh.
  const routes = await splitRoutes(lab, w.c);
  t.regex(routes, /^0\.0\.0\.0\/1 dev pim0/m);
  t.regex(routes, /^128\.0\.0\.0\/1 dev pim0/m);
});

// ── 4. The client's daemon dies ────────────────────────────────────────────

labTest('client SIGKILLed with routing on: 0 packets leak on its uplink; after a restart, route off restores direct access', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  w.procC.kill('SIGKILL');
  await w.procC.waitExit(5000);

  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const probes = await probeInternet(lab, w.c, w.iAddr);
  const frames = await capC.stop();
  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink with C's daemon dead");
  t.deepEqual(unexpectedEgress(frames, w).map(describeFrame), [], 'nothing leaves C but the local subnet');
  t.is(pingReceived(probes.ping), 0, probes.ping.stdout);
  t.not(probes.tcp.code, 0, 'a TCP connect to I fails');
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'), 'the nft kill-switch outlived the daemon');
  const local = await ping(lab, w.c, w.uOnC);
  t.true(pingOk(local), `the local subnet stays reachable with the daemon dead: ${local.stdout}${local.stderr}`);

  // Restart: the config still says internet_via_mesh = true, so routing comes back on via G.
  t.regex(fs.readFileSync(w.C.configPath, 'utf8'), /^internet_via_mesh = true$/m);
  await startDaemon(lab, w.C);
  await waitForPeerState(w.C, w.G, 'active', 15_000);
  await waitUntil('C to route via G again after the restart', 15_000, async () => {
    const s = await status(w.C);
    return s.route_on === true && selectedGateway(s) === w.G.nodeId ? true : undefined;
  });
  const via = await pingThroughCaptures(lab, w);
  t.true(pingOk(via.ping), via.ping.stdout);
  t.deepEqual(requestSources(via.atI, w.iAddr), [w.gAddr], 'after the restart, I sees G again');

  const off = await pimOk(t, w.C, 'route', 'off');
  t.regex(off, /^routing: direct/);
  const direct = await pingThroughCaptures(lab, w);
  t.true(pingOk(direct.ping), direct.ping.stdout);
  t.deepEqual(requestSources(direct.atI, w.iAddr), [w.cAddr], 'after route off, I sees C directly');
  noPimLeftovers(t, 'C after route off', await splitRoutes(lab, w.c), (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, await nftTables(lab, w.c));
  t.regex(fs.readFileSync(w.C.configPath, 'utf8'), /^internet_via_mesh = false$/m, 'route off is persisted');
});

// ── 5. Nothing left behind ─────────────────────────────────────────────────

labTest('route off and a clean stop leave no pim route, rule or nft table; the gateway restores ip_forward', async (t, lab) => {
  const w = await world(lab);
  t.is(w.gForwardBefore, '0', 'a fresh namespace starts with forwarding off');
  await routeOn(t, w);
  // Positive control: the checks below would see pim's state.
  t.not((await splitRoutes(lab, w.c)).trim(), '');
  t.regex((await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, /^7069:/m);

  await pimOk(t, w.C, 'route', 'off');
  const cRules = (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout;
  noPimLeftovers(t, 'C after route off', await splitRoutes(lab, w.c), cRules, await nftTables(lab, w.c));
  // pim0 is still up (the daemon runs): its own connected route aside, all is as before pim.
  const afterOff = await osState(lab, w.c);
  afterOff.mainRoutes = afterOff.mainRoutes.split('\n').filter((l) => !/ dev pim0 /.test(l)).join('\n');
  t.deepEqual(afterOff, w.cBefore, "C's rules, main table and nft ruleset are as before pim");

  // Routing on again, then a clean stop: the stop restores normal routing too.
  await routeOn(t, w);
  w.procC.kill('SIGTERM');
  t.is((await w.procC.waitExit(10_000)).code, 0);
  noPimLeftovers(t, 'C after SIGTERM', await splitRoutes(lab, w.c), (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, await nftTables(lab, w.c));
  t.deepEqual(await osState(lab, w.c), w.cBefore, "C's rules, main table and nft ruleset are as before pim");
  const direct = await ping(lab, w.c, w.iAddr);
  t.true(pingOk(direct), `C reaches I directly after the stop: ${direct.stdout}`);

  // G was a gateway: SIGTERM removes its NAT table and restores forwarding.
  t.is(await readForward(lab, w.g), '1');
  w.procG.kill('SIGTERM');
  t.is((await w.procG.waitExit(10_000)).code, 0);
  t.false((await nftTables(lab, w.g)).includes('pim_gateway'), 'no pim_gateway table in G');
  t.is(await readForward(lab, w.g), w.gForwardBefore, 'ip_forward back to its previous value');
  t.deepEqual(await osState(lab, w.g), w.gBefore, "G's rules, main table and nft ruleset are as before pim");
});

labTest('a gateway SIGKILLed, restarted and stopped cleanly restores the original ip_forward', async (t, lab) => {
  const w = await world(lab);
  t.is(w.gForwardBefore, '0');
  t.is(await readForward(lab, w.g), '1');
  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  t.is(await readForward(lab, w.g), '1', 'a SIGKILL cannot restore anything');
  const again = await startDaemon(lab, w.G);
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'), 'the restarted gateway is on again');
  again.kill('SIGTERM');
  t.is((await again.waitExit(10_000)).code, 0);
  if ((await nftTables(lab, w.g)).includes('pim_gateway')) t.log(fs.readFileSync(`${w.G.dir}/daemon.log`, 'utf8'));
  t.false((await nftTables(lab, w.g)).includes('pim_gateway'), 'no pim_gateway table after the clean stop');
  t.is(await readForward(lab, w.g), w.gForwardBefore, 'ip_forward back to its value from before pim');
});

// ── gateway disable / enable ────────────────────────────────────────────────

labTest('pim gateway disable removes the NAT and the client blocks; gateway enable brings it back', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  const events = await statusEvents(t, w.C);

  const disabledAt = Date.now();
  t.regex(await pimOk(t, w.G, 'gateway', 'disable'), /^gateway: off/);
  t.false((await nftTables(lab, w.g)).includes('pim_gateway'), 'the NAT table is gone');
  t.is(await readForward(lab, w.g), w.gForwardBefore, 'forwarding back to what it was');
  t.regex(fs.readFileSync(w.G.configPath, 'utf8'), /^enabled = false$/m, 'disable is persisted');

  await waitUntil('C to block after the gateway role was withdrawn', ROLE_GONE_WITHIN_MS, async () =>
    (await status(w.C)).kill_switch === true ? true : undefined,
  );
  const blockMs = Date.now() - disabledAt;
  t.log(`C reported BLOCKING INTERNET ${blockMs} ms after \`pim gateway disable\``);
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^BLOCKING INTERNET/);
  t.true(events.some((e) => e.kind === 'kill_switch' && (e.detail as Json).engaged === true));
  t.deepEqual(((await rpcCall(w.C, 'route.table')) as { gateways: Json[] }).gateways, [], 'C no longer lists G as a gateway');

  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const probes = await probeInternet(lab, w.c, w.iAddr);
  const frames = await capC.stop();
  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink");
  t.is(pingReceived(probes.ping), 0);

  const enabledAt = Date.now();
  t.regex(await pimOk(t, w.G, 'gateway', 'enable', '--nat-interface', w.gLink.ifB), new RegExp(`^gateway: on, NAT out of ${w.gLink.ifB}`));
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'));
  t.is(await readForward(lab, w.g), '1');
  await waitUntil('C to select G again', ROLE_GONE_WITHIN_MS, async () => {
    const s = await status(w.C);
    return s.kill_switch === false && selectedGateway(s) === w.G.nodeId ? true : undefined;
  });
  t.log(`C routed via G again ${Date.now() - enabledAt} ms after \`pim gateway enable\``);
  const via = await pingThroughCaptures(lab, w);
  t.true(pingOk(via.ping), via.ping.stdout);
  t.deepEqual(requestSources(via.atI, w.iAddr), [w.gAddr]);
  t.true(events.some((e) => e.kind === 'kill_switch' && (e.detail as Json).engaged === false), 'kill_switch {engaged:false} was sent');
  t.true(events.some((e) => e.kind === 'gateway_selected' && (e.detail as Json).node_id === w.G.nodeId));
  const gwConfig = fs.readFileSync(w.G.configPath, 'utf8');
  t.regex(gwConfig, /^enabled = true$/m);
  t.true(gwConfig.includes(`nat_interface = "${w.gLink.ifB}"`));
});

// ── The daemon's nft is whatever PATH finds ─────────────────────────────────

labTest('daemons started with node_modules/.bin first on PATH (as under npm test) still install the real kill-switch and NAT, or refuse', async (t, lab) => {
  t.true(fs.existsSync(path.join(NPM_BIN, 'nft')), `${NPM_BIN}/nft (from @vercel/nft) is there to shadow the system nft`);
  const w = await world(lab, { daemonPath: `${NPM_BIN}:${SYSTEM_PATH}` });
  // G claims to be a gateway; then its NAT table must really exist.
  const gw = JSON.parse(await pimOk(t, w.G, 'gateway', 'status', '--json')) as Json;
  t.is(gw.active, true);
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'), `G reports the gateway active: its NAT table must exist:\n${await nftTables(lab, w.g)}`);

  const on = await pim(w.C, 'route', 'on');
  if (on.code !== 0) {
    // Refusing is acceptable, if it says why.
    t.regex(on.stderr, /nft/);
    return;
  }
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'), '`pim route on` succeeded: the kill-switch must be in the kernel');
  // What the missing kill-switch means: a SIGKILLed client leaks.
  w.procC.kill('SIGKILL');
  await w.procC.waitExit(5000);
  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  await probeInternet(lab, w.c, w.iAddr);
  const frames = await capC.stop();
  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink with C's daemon dead");
});

// ── A stranger offering itself as the gateway ───────────────────────────────

labTest('a TOFU stranger advertising the gateway role is never C\'s gateway: not while G serves, not when G dies, not after C restarts; C blocks', async (t, lab) => {
  const w = await world(lab, { stranger: true });
  const { m, M, mLink } = w.stranger!;
  await routeOn(t, w);
  // M is connected to C (admitted on first use) and has told C it is a gateway.
  await waitUntil("C to count M's ignored gateway role", 15_000, async () =>
    Number((((await status(w.C)).stats as Json).drops as Json).advert_roles_untrusted) > 0 ? true : undefined,
  );
  const candidates = () => rpcCall(w.C, 'route.table').then((r) => (r as { gateways: Json[] }).gateways.map((g) => g.node_id));
  t.deepEqual(await candidates(), [w.G.nodeId], 'only G is a gateway candidate');

  // Whatever reaches M's tunnel from C, and whatever M would send on to I.
  const capM = await startCapture(lab, m, 'pim0');
  const capMUplink = await startCapture(lab, m, mLink.ifB);
  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  await waitUntil('C to engage the kill-switch', KILL_SWITCH_WITHIN_MS, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  t.is(selectedGateway(await status(w.C)), null, 'no gateway: M was not taken instead');
  await probeInternet(lab, w.c, w.iAddr);

  // C restarts while G is still down; M dials it again.
  w.procC.kill('SIGTERM');
  t.is((await w.procC.waitExit(10_000)).code, 0);
  await startDaemon(lab, w.C);
  await waitForPeerState(w.C, M, 'active', 20_000);
  await waitUntil('C to block after its restart', 15_000, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  const probes = await probeInternet(lab, w.c, w.iAddr);
  t.is(pingReceived(probes.ping), 0, probes.ping.stdout);
  const s = await status(w.C);
  t.true(s.kill_switch);
  t.is(selectedGateway(s), null);
  t.deepEqual(await candidates(), [], 'M is still no candidate');
  t.regex((await pimOk(t, w.C, 'status')).split('\n')[0]!, /^BLOCKING INTERNET/);

  const [atM, atMUplink] = [await capM.stop(), await capMUplink.stop()];
  t.deepEqual(toInternet(atM, w.iAddr).map(describeFrame), [], "no probe from C toward I reached M's tunnel");
  t.deepEqual(toInternet(atMUplink, w.iAddr).map(describeFrame), [], 'M sent nothing on to I');
});

labTest('a gateway forwards the mesh to the internet only: its own addresses and its LAN are dropped and counted', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  const before = Number((((await status(w.G)).stats as Json).drops as Json).gateway_blocked ?? 0);
  // G's own underlay address and U's address on G's subnet (G's LAN) are
  // outside C's local subnet, so with routing on they go into the tunnel.
  const gHost = await ping(lab, w.c, w.gAddr);
  const gLan = await ping(lab, w.c, w.gLink.addrA);
  const internet = await ping(lab, w.c, w.iAddr);
  t.true(pingOk(internet), `the internet is reachable through G: ${internet.stdout}`);
  t.is(pingReceived(gHost), 0, `G's own address is not reachable from the mesh: ${gHost.stdout}`);
  t.is(pingReceived(gLan), 0, `G's LAN is not reachable from the mesh: ${gLan.stdout}`);
  const after = Number((((await status(w.G)).stats as Json).drops as Json).gateway_blocked);
  t.true(after - before >= 6, `G counted the packets it refused (${after - before})`);
  const ruleset = (await lab.exec(w.g, NFT, ['list', 'table', 'ip', 'pim_gateway'])).stdout;
  t.regex(ruleset, /ip daddr @lan drop/, `nftables holds the line too:\n${ruleset}`);
});
