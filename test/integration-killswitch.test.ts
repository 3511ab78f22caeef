// Fail closed (docs/SECURITY.md, the kill-switch): with routing via the mesh
// on, no crash, forwarded packet or DNS query gets past the kill-switch.
// Real daemons in the gateway scenario (test/helpers/gateway-world.ts), plus
// IPv6 on the client's uplink and K, a "container" namespace routed through
// the client. The judge is a capture on C's own uplink: every IPv4 and IPv6
// packet of ICMP, UDP and TCP from C or K to the internet host counts as a
// leak, and so does any DNS query. Each topology first shows, with routing
// off, that the same probes do appear in the capture. One more test gives C a
// hostile LAN that claims the internet host's subnet. Root only.
//
//   K (198.18.9.2, 2001:db8:9::2) ── C ── U ── I (203.0.113.2, 2001:db8:3::2)
//                                         └── G (gateway)

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCapture } from '../ts/lab/capture.js';
import { namespaceResolvConf, startDaemon, waitUntil } from '../ts/lab/mesh.js';
import type { Lab, LabProcess, Node } from '../ts/lab/netns.js';
import type { Frame } from '../ts/lab/pcap.js';
import {
  KILL_SWITCH_WITHIN_MS, NFT, describeFrame, dump, nftTables, noPimLeftovers, ping, pingOk, routeOn, selectedGateway, splitRoutes,
  status, world, type World,
} from './helpers/gateway-world.js';
import { labTests, pimOk } from './helpers/lab.js';

const labTest = labTests({ prefix: 'ks', serial: true, timeoutMs: 180_000 });

const V6 = { uOnC: '2001:db8:1::1', c: '2001:db8:1::2', uOnI: '2001:db8:3::1', i: '2001:db8:3::2', cOnK: '2001:db8:9::1', k: '2001:db8:9::2' };
const K_SUBNET = '198.18.9.0/24';
/** The address `world` gives I (its link's .2), known before the world exists, for configs. */
const I_V4 = '203.0.113.2';
/** An address on I that no config lists as a resolver. */
const I_UNLISTED = '203.0.113.3';
const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp' };

/** K behind C (C forwards; U routes K's subnet back to C) and IPv6 on C, U, I and K. */
async function addContainerAndIpv6(lab: Lab, w: World): Promise<Node> {
  const k = await lab.addNode('k');
  const kLink = await lab.link(w.c, k, { subnet: K_SUBNET });
  const v6 = (n: Node, ...args: string[]) => lab.exec(n, 'ip', ['-6', ...args]);
  for (const n of [w.c, w.u, w.i, k]) {
    await lab.exec(n, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0']);
  }
  for (const n of [w.c, w.u]) await lab.exec(n, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  for (const [n, dev, addr] of [
    [w.u, w.cLink.ifA, V6.uOnC], [w.c, w.cLink.ifB, V6.c], [w.u, w.iLink.ifA, V6.uOnI], [w.i, w.iLink.ifB, V6.i], [w.c, kLink.ifA, V6.cOnK], [k, kLink.ifB, V6.k],
  ] as const) {
    await v6(n, 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad');
  }
  await v6(w.c, 'route', 'add', 'default', 'via', V6.uOnC);
  await v6(w.i, 'route', 'add', 'default', 'via', V6.uOnI);
  await v6(k, 'route', 'add', 'default', 'via', V6.cOnK);
  await v6(w.u, 'route', 'add', '2001:db8:9::/64', 'via', V6.c);
  await lab.exec(k, 'ip', ['route', 'add', 'default', 'via', kLink.addrA]);
  await lab.exec(w.u, 'ip', ['route', 'add', K_SUBNET, 'via', w.cAddr]);
  return k;
}

const bash = (lab: Lab, n: Node, script: string) => lab.exec(n, 'timeout', ['3', 'bash', '-c', script], { allowFailure: true, timeoutMs: 10_000 });

/** ICMP, TCP and UDP to I over IPv4 and IPv6, from each node at once. */
async function probeInternet(lab: Lab, from: readonly Node[]): Promise<void> {
  await Promise.all(
    from.flatMap((n) =>
      [I_V4, V6.i].flatMap((to) => [
        lab.exec(n, 'ping', ['-n', '-c', '3', '-i', '0.2', '-W', '1', to], { allowFailure: true, timeoutMs: 10_000 }),
        bash(lab, n, `echo hello > /dev/tcp/${to}/80`),
        bash(lab, n, `for n in 1 2 3; do echo hello > /dev/udp/${to}/9; done`),
      ]),
    ),
  );
}

/** DNS queries (a UDP datagram and a TCP connect to port 53) to each resolver, from each node. */
async function probeDns(lab: Lab, from: readonly Node[], resolvers: readonly string[]): Promise<void> {
  await Promise.all(
    from.flatMap((n) => resolvers.flatMap((r) => [bash(lab, n, `echo query > /dev/udp/${r}/53`), bash(lab, n, `echo query > /dev/tcp/${r}/53`)])),
  );
}

/** Captures on C's uplink while `probe` runs. */
async function onUplink(lab: Lab, w: World, probe: () => Promise<void>): Promise<Frame[]> {
  const cap = await startCapture(lab, w.c, w.cLink.ifB);
  await probe();
  return cap.stop();
}

const dstPort = (f: Frame): number | undefined =>
  f.udp?.dstPort ?? (f.ip?.protocol === 6 && f.ip.payload.length >= 4 ? f.ip.payload.readUInt16BE(2) : undefined);

/** "C v6 tcp → 2001:db8:3::2:80": who sent what where. */
function describe(f: Frame, w: World): string {
  const ip = f.ip!;
  const who = ip.src === w.cAddr || ip.src === V6.c ? 'C' : ip.src.startsWith('198.18.9.') || ip.src.startsWith('2001:db8:9:') ? 'K' : ip.src;
  const port = dstPort(f);
  return `${who} v${ip.version} ${PROTOCOLS[ip.protocol] ?? ip.protocol} → ${ip.dst}${port === undefined ? '' : `:${port}`}`;
}

/** Packets to the internet host, and any DNS query, that left on C's uplink. */
function leaks(frames: Frame[], w: World): string[] {
  const toI = (f: Frame) => f.ip?.dst === I_V4 || f.ip?.dst === V6.i || f.ip?.dst === I_UNLISTED;
  return [...new Set(frames.filter((f) => f.ip !== undefined && (toI(f) || dstPort(f) === 53)).map((f) => describe(f, w)))].sort();
}

/** The kinds of probe seen, without addresses: "C v4 icmp". */
const kinds = (frames: Frame[], w: World): string[] => [...new Set(leaks(frames, w).map((l) => l.split(' → ')[0]!))].sort();

const EVERY_KIND = ['C', 'K'].flatMap((who) => ['v4', 'v6'].flatMap((v) => ['icmp', 'tcp', 'udp'].map((p) => `${who} ${v} ${p}`))).sort();

/** Routing off: the probes are seen on C's uplink, so an empty capture later means blocked, not unobserved. */
async function positiveControl(t: ExecutionContext, lab: Lab, w: World, k: Node): Promise<void> {
  const frames = await onUplink(lab, w, () => probeInternet(lab, [w.c, k]));
  t.deepEqual(kinds(frames, w), EVERY_KIND, 'with routing off, every probe from C and K is on the uplink');
}

async function noLeaks(t: ExecutionContext, lab: Lab, w: World, k: Node, state: string): Promise<void> {
  const frames = await onUplink(lab, w, () => probeInternet(lab, [w.c, k]));
  const leaked = leaks(frames, w);
  t.log(`${state}: ${leaked.length} kinds of leaked packet on C's uplink (${frames.length} frames captured)`);
  if (leaked.length > 0) await dump(t, lab, w, frames).catch(() => undefined);
  t.deepEqual(leaked, [], `${state}: 0 packets from C or K to I on C's uplink`);
}

async function blockInKernel(t: ExecutionContext, lab: Lab, w: World, state: string): Promise<void> {
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'), `${state}: the kill-switch table is in the kernel`);
  t.regex(await splitRoutes(lab, w.c), /^unreachable 0\.0\.0\.0\/1/m, `${state}: the unreachable halves stay in table 7069`);
}

/** Starts C again and waits until it routes via G: the next start takes over. */
async function restartRouting(t: ExecutionContext, lab: Lab, w: World, env: Record<string, string> = {}): Promise<LabProcess> {
  const proc = await startDaemon(lab, w.C, undefined, env);
  await waitUntil('C to route via G after its restart', 20_000, async () => {
    const s = await status(w.C);
    return s.route_on === true && selectedGateway(s) === w.G.nodeId ? true : undefined;
  });
  const r = await ping(lab, w.c, I_V4);
  t.true(pingOk(r), `after the restart C reaches I through G: ${r.stdout}`);
  return proc;
}

async function exitsWith(t: ExecutionContext, proc: LabProcess, code: number, what: string): Promise<void> {
  const exit = await proc.waitExit(15_000);
  t.is(exit.code, code, `${what}: the daemon exits ${code}`);
}

// ── Gateway lost, daemon killed, with a container forwarding through C ─────

labTest('gateway lost, then the daemon SIGKILLed: 0 packets from C or its container K leak on C\'s uplink (IPv4, IPv6; ICMP, UDP, TCP)', async (t, lab) => {
  const w = await world(lab);
  const k = await addContainerAndIpv6(lab, w);
  await positiveControl(t, lab, w, k);
  await routeOn(t, w);

  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  await waitUntil('C to engage the kill-switch', KILL_SWITCH_WITHIN_MS, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  await noLeaks(t, lab, w, k, 'gateway lost');

  w.procC.kill('SIGKILL');
  await w.procC.waitExit(5000);
  await blockInKernel(t, lab, w, 'C SIGKILLed');
  await noLeaks(t, lab, w, k, 'C SIGKILLed');
});

// ── Crashes: an engine fault, an exception, a rejection ────────────────────

labTest('an engine fault, an uncaught exception and an unhandled rejection each exit 1 and leave the kill-switch: 0 leaks; each next start takes over', async (t, lab) => {
  const trigger = path.join(await lab.tmpDir(), 'panic-now');
  const w = await world(lab, { clientEnv: { PIM_TEST_PANIC: `pim-outbound:${trigger}` } });
  const k = await addContainerAndIpv6(lab, w);
  await routeOn(t, w);

  // A data-plane thread panics on the next packet it reads from the TUN.
  fs.writeFileSync(trigger, '');
  await ping(lab, w.c, I_V4, 1);
  await exitsWith(t, w.procC, 1, 'engine fault');
  const log = fs.readFileSync(path.join(w.C.dir, 'daemon.log'), 'utf8');
  t.regex(log, /"event":"engine_fault".*pim-outbound panicked/);
  t.regex(log, /"event":"kill_switch_kept"/);
  await blockInKernel(t, lab, w, 'engine fault');
  await noLeaks(t, lab, w, k, 'engine fault');

  for (const kind of ['exception', 'rejection']) {
    const proc = await restartRouting(t, lab, w, { PIM_TEST_CRASH: kind });
    proc.kill('SIGUSR2');
    await exitsWith(t, proc, 1, kind);
    t.regex(fs.readFileSync(path.join(w.C.dir, 'daemon.log'), 'utf8'), /"event":"crash".*PIM_TEST_CRASH: injected/);
    await blockInKernel(t, lab, w, kind);
    await noLeaks(t, lab, w, k, `control-plane ${kind}`);
  }

  // Only `route off` (or a clean stop) lifts it.
  await restartRouting(t, lab, w);
  await pimOk(t, w.C, 'route', 'off');
  noPimLeftovers(t, 'C after route off', await splitRoutes(lab, w.c), (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, await nftTables(lab, w.c));
  t.true(pingOk(await ping(lab, w.c, I_V4)), 'C reaches I directly again');
});

// ── Lockdown ────────────────────────────────────────────────────────────────

labTest('[route] lockdown: a clean stop (SIGTERM, pim down) keeps internet blocked, 0 leaks; the restart takes over; only route off lifts it', async (t, lab) => {
  const w = await world(lab, { clientToml: '[route]\nlockdown = true\n' });
  const k = await addContainerAndIpv6(lab, w);
  await routeOn(t, w);
  const s = await status(w.C);
  t.is(s.lockdown, true, 'status.lockdown');
  t.regex(await pimOk(t, w.C, 'status'), /routing +internet via mesh, lockdown/);
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^lockdown: on/m);

  w.procC.kill('SIGTERM');
  await exitsWith(t, w.procC, 0, 'SIGTERM in lockdown');
  await blockInKernel(t, lab, w, 'stopped by SIGTERM in lockdown');
  await noLeaks(t, lab, w, k, 'stopped by SIGTERM in lockdown');

  const proc = await restartRouting(t, lab, w);
  await pimOk(t, w.C, 'down');
  await exitsWith(t, proc, 0, 'pim down in lockdown');
  await blockInKernel(t, lab, w, 'stopped by pim down in lockdown');
  await noLeaks(t, lab, w, k, 'stopped by pim down in lockdown');

  await restartRouting(t, lab, w);
  await pimOk(t, w.C, 'route', 'off');
  noPimLeftovers(t, 'C after route off', await splitRoutes(lab, w.c), (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, await nftTables(lab, w.c));
  t.true(pingOk(await ping(lab, w.c, I_V4)), 'C reaches I directly after route off');
});

// ── DNS ─────────────────────────────────────────────────────────────────────

labTest('[route] dns: the namespace resolver points at it while routing is on; DNS to the local-subnet resolver (or any other) never leaves; restored by route off, also after a SIGKILL', async (t, lab) => {
  // Lab daemons swap their namespace's resolv.conf (namespaceResolvConf), never the host's.
  const resolvConf = namespaceResolvConf({ name: 'c', ns: `${lab.id}-c` });
  t.teardown(() => fs.rmSync(path.dirname(resolvConf), { recursive: true, force: true }));
  fs.mkdirSync(path.dirname(resolvConf), { recursive: true });
  const original = 'nameserver 198.18.1.1\n';
  fs.writeFileSync(resolvConf, original);
  const hostResolver = fs.readFileSync('/etc/resolv.conf');

  const w = await world(lab, { clientToml: `[route]\ndns = ["${I_V4}"]\n` });
  t.is(namespaceResolvConf(w.c), resolvConf);
  const k = await addContainerAndIpv6(lab, w);
  t.is(w.uOnC, '198.18.1.1', 'the original resolver is U, on C\'s local subnet');
  const localResolvers = [w.uOnC, V6.uOnC];
  const inNamespace = async () => (await lab.exec(w.c, 'cat', ['/etc/resolv.conf'])).stdout;
  t.is(await inNamespace(), original);

  const control = await onUplink(lab, w, () => probeDns(lab, [w.c, k], localResolvers));
  t.deepEqual(kinds(control, w), ['C v4 tcp', 'C v4 udp', 'C v6 tcp', 'C v6 udp', 'K v4 tcp', 'K v4 udp', 'K v6 tcp', 'K v6 udp'], 'with routing off, the DNS probes are on the uplink');

  await routeOn(t, w);
  t.regex(await inNamespace(), new RegExp(`^nameserver ${I_V4.replace(/\./g, '\\.')}$`, 'm'), 'the namespace resolves through [route] dns');
  t.notRegex(await inNamespace(), /198\.18\.1\.1/);

  const atI = await startCapture(lab, w.i, w.iLink.ifB, { filter: 'port 53' });
  const frames = await onUplink(lab, w, () => probeDns(lab, [w.c, k], [...localResolvers, I_V4, I_UNLISTED]));
  const atIFrames = await atI.stop();
  t.deepEqual(leaks(frames, w), [], 'routing on: no DNS query on C\'s uplink');
  const sources = [...new Set(atIFrames.filter((f) => f.ip?.dst === I_V4 && dstPort(f) === 53).map((f) => f.ip!.src))];
  t.deepEqual(sources, [w.gAddr], 'the listed resolver is reached, through G');
  t.false(atIFrames.some((f) => f.ip?.dst === I_UNLISTED), 'DNS to a resolver not listed is blocked, in the tunnel too');

  w.procC.kill('SIGKILL');
  await w.procC.waitExit(5000);
  t.regex(await inNamespace(), /^nameserver 203\.0\.113\.2$/m, 'after a SIGKILL the resolver still points at [route] dns');
  const killed = await onUplink(lab, w, () => probeDns(lab, [w.c, k], [...localResolvers, I_V4]));
  t.deepEqual(leaks(killed, w), [], 'C SIGKILLed: no DNS query on C\'s uplink');

  await restartRouting(t, lab, w);
  await pimOk(t, w.C, 'route', 'off');
  t.is(await inNamespace(), original, 'route off restores the original resolv.conf, kept across the crash');
  t.false(fs.existsSync(`${resolvConf}.pim-saved`), 'no saved copy left');
  t.deepEqual(fs.readFileSync('/etc/resolv.conf'), hostResolver, 'the host\'s resolver is untouched');
});

labTest('a hostile LAN that hands out a public subnet (LocalNet): with routing on, nothing to an address in it reaches that LAN in clear; the private local subnet stays reachable', async (t, lab) => {
  const w = await world(lab);
  // X joins C's machine with 203.0.113.0/24, the internet host's subnet, and
  // takes I's own address: a local route now claims I.
  const x = await lab.addNode('x');
  const xLink = await lab.link(w.c, x, { subnet: '203.0.113.0/24' });
  t.is(xLink.addrB, I_V4);
  const onX = async (probe: () => Promise<void>): Promise<Frame[]> => {
    const cap = await startCapture(lab, x, xLink.ifB);
    await probe();
    return (await cap.stop()).filter((f) => f.ip?.src === xLink.addrA && f.ip.dst === I_V4);
  };
  // Positive control, routing off: C's probes to "I" go to X, and X's capture sees them.
  const control = await onX(() => probeInternet(lab, [w.c]));
  t.true(control.some((f) => f.ip?.protocol === 1), `the capture on X sees C's pings: ${control.map(describeFrame).join('; ')}`);

  await routeOn(t, w);
  const leaked = await onX(() => probeInternet(lab, [w.c]));
  t.deepEqual(leaked.map(describeFrame), [], 'nothing from C to the claimed address reached X');
  t.true(pingOk(await ping(lab, w.c, w.uOnC)), 'the private local subnet (U) stays reachable');
  const rules = await lab.exec(w.c, NFT, ['list', 'table', 'inet', 'pim_killswitch']);
  t.false(rules.stdout.includes('203.0.113.0/24'), rules.stdout);
  t.true(rules.stdout.includes('198.18.1.0/24'), rules.stdout);
});
