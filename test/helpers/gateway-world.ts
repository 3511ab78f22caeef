// The gateway scenario the namespace tests of routing share (integration-
// gateway and integration-killswitch): real daemons, kernel routing and
// nftables in network namespaces, with packet captures as the judge of leaks.
//
//   C (client) ── U (uplink router, ip_forward on) ── I (internet host, 203.0.113.2)
//                 │
//                 G (gateway: [gateway] enabled, NAT out of its veth to U)
//
// C and G are static peers on different subnets (routed by U), so the
// daemon's own UDP must keep using the underlay via its fwmark. `stranger`
// adds M, a stranger on U: it knows C's key, dials it (C admits it on first
// use) and offers itself as a gateway too, NATing out of its own veth.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCapture } from '../../ts/lab/capture.js';
import type { RunResult } from '../../ts/lab/exec.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, waitUntil, writeConfig, type MeshNode } from '../../ts/lab/mesh.js';
import { Lab, type Link, type LabProcess, type Node } from '../../ts/lab/netns.js';
import type { Frame } from '../../ts/lab/pcap.js';
import { pimOk } from './lab.js';

// npx and npm put node_modules/.bin first on PATH, and ava depends on
// @vercel/nft, whose CLI is also called `nft`: it accepts `nft -f -`,
// `nft list …`, `nft --version` and exits 0. The daemons here (and the
// checks) must use the system's nftables, so a test process importing this
// module — and every daemon it starts — runs with node_modules/.bin removed
// from PATH; the checks call nft by absolute path. integration-gateway's last
// test shows what happens when the daemon inherits the npm PATH.
export const NPM_BIN = path.resolve(__dirname, '..', '..', '..', 'node_modules', '.bin');
export const SYSTEM_PATH = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
  .split(':')
  .filter((d) => d !== '' && !d.split(path.sep).includes('node_modules'))
  .join(':');
process.env.PATH = SYSTEM_PATH;
export const NFT = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft', '/bin/nft'].find((p) => fs.existsSync(p)) ?? 'nft';

/** Liveness detection is 12 s; the issue allows "within liveness detection" plus slack. */
export const KILL_SWITCH_WITHIN_MS = 15_000;
export const ROUTE_TABLE = '7069';

export type Json = Record<string, unknown>;

// ── The topology ────────────────────────────────────────────────────────────

export interface OsState {
  rules: string;
  mainRoutes: string;
  nft: string;
}

export interface World {
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

export async function osState(lab: Lab, n: Node): Promise<OsState> {
  return {
    rules: (await lab.exec(n, 'ip', ['-4', 'rule', 'show'])).stdout,
    mainRoutes: (await lab.exec(n, 'ip', ['-4', 'route', 'show', 'table', 'main'])).stdout,
    nft: (await lab.exec(n, NFT, ['list', 'ruleset'])).stdout,
  };
}

export interface WorldOptions {
  /** PATH for the daemons (default: the system's). */
  daemonPath?: string;
  stranger?: boolean;
  /** TOML appended to C's config, e.g. a [route] table. */
  clientToml?: string;
  /** Added to C's daemon's environment (the test-only fault hooks). */
  clientEnv?: Record<string, string>;
}

export async function world(lab: Lab, opts: WorldOptions = {}): Promise<World> {
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
  writeConfig(C, [{ address: `${gLink.addrB}:9100`, publicKey: G.publicKey, label: 'gw' }], { label: 'client', extraToml: opts.clientToml });
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
    starting = Promise.all([startDaemon(lab, C, undefined, opts.clientEnv), startDaemon(lab, G)]);
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
export async function addStranger(lab: Lab, u: Node, C: MeshNode, cLink: Link): Promise<NonNullable<World['stranger']>> {
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

export const status = (m: MeshNode): Promise<Json> => rpcCall(m, 'status') as Promise<Json>;

export function selectedGateway(s: Json): unknown {
  return (s.routes as Json).selected_gateway;
}

export async function readForward(lab: Lab, n: Node): Promise<string> {
  return (await lab.exec(n, 'cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout.trim();
}

export async function ping(lab: Lab, from: Node, to: string, count = 3): Promise<RunResult> {
  return lab.exec(from, 'ping', ['-n', '-c', String(count), '-i', '0.2', '-W', '1', to], { allowFailure: true, timeoutMs: 20_000 });
}

export const pingOk = (r: RunResult): boolean => / 0% packet loss/.test(r.stdout);
export const pingReceived = (r: RunResult): number => Number(/(\d+) received/.exec(r.stdout)?.[1] ?? '0');

/**
 * Everything a program on C might send to the internet host: ICMP, a TCP
 * connect and a UDP datagram (bash's /dev/tcp and /dev/udp; no nc here).
 */
export async function probeInternet(lab: Lab, c: Node, iAddr: string): Promise<{ ping: RunResult; tcp: RunResult; udp: RunResult }> {
  const pingR = await ping(lab, c, iAddr, 5);
  const tcp = await lab.exec(c, 'timeout', ['4', 'bash', '-c', `echo hello > /dev/tcp/${iAddr}/80`], { allowFailure: true, timeoutMs: 10_000 });
  const udp = await lab.exec(c, 'timeout', ['4', 'bash', '-c', `for n in 1 2 3; do echo hello > /dev/udp/${iAddr}/53; done`], { allowFailure: true, timeoutMs: 10_000 });
  return { ping: pingR, tcp, udp };
}

export const describeFrame = (f: Frame): string =>
  `${f.ip?.src} > ${f.ip?.dst} proto ${f.ip?.protocol}${f.udp ? ` udp ${f.udp.srcPort}>${f.udp.dstPort}` : ''}`;

/** Frames to or from the internet host. */
export const toInternet = (frames: Frame[], iAddr: string): Frame[] => frames.filter((f) => f.ip?.dst === iAddr || f.ip?.src === iAddr);

/**
 * What left C on its uplink that is neither for the local subnet nor the
 * daemon's encrypted UDP to a mesh peer's underlay address (port 9100).
 */
export function unexpectedEgress(frames: Frame[], w: World): Frame[] {
  const localPrefix = w.cAddr.split('.').slice(0, 3).join('.') + '.';
  return frames.filter((f) => {
    if (f.ip === undefined || f.ip.src !== w.cAddr) return false;
    if (f.ip.dst.startsWith(localPrefix)) return false;
    return !(f.udp !== undefined && f.ip.dst === w.gAddr && f.udp.dstPort === 9100);
  });
}

export async function splitRoutes(lab: Lab, c: Node): Promise<string> {
  return (await lab.exec(c, 'ip', ['-4', 'route', 'show', 'table', ROUTE_TABLE], { allowFailure: true })).stdout;
}

export async function nftTables(lab: Lab, n: Node): Promise<string> {
  return (await lab.exec(n, NFT, ['list', 'tables'])).stdout;
}

/** `pim route on` on C, then waits until G is the selected gateway. */
export async function routeOn(t: ExecutionContext, w: World): Promise<string> {
  const out = await pimOk(t, w.C, 'route', 'on');
  await waitUntil('C to select G', 10_000, async () => (selectedGateway(await status(w.C)) === w.G.nodeId ? true : undefined));
  return out;
}

/** Pings I from C with captures on I and on C's uplink. */
export async function pingThroughCaptures(lab: Lab, w: World): Promise<{ ping: RunResult; atI: Frame[]; onUplink: Frame[] }> {
  const capI = await startCapture(lab, w.i, w.iLink.ifB, { filter: 'icmp' });
  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const r = await ping(lab, w.c, w.iAddr, 5);
  const [atI, onUplink] = [await capI.stop(), await capC.stop()];
  return { ping: r, atI, onUplink };
}

/** Echo requests that reached I, by source address. */
export const requestSources = (frames: Frame[], iAddr: string): string[] =>
  [...new Set(frames.filter((f) => f.ip?.dst === iAddr && f.ip.protocol === 1 && f.ip.payload[0] === 8).map((f) => f.ip!.src))];

export function noPimLeftovers(t: ExecutionContext, where: string, routes: string, rules: string, tables: string): void {
  t.is(routes.trim(), '', `${where}: table ${ROUTE_TABLE} is empty`);
  t.false(/^(7068|7069):/m.test(rules), `${where}: no pref 7068/7069 rules:\n${rules}`);
  t.false(tables.includes('pim_killswitch'), `${where}: no pim_killswitch table:\n${tables}`);
}

export async function dump(t: ExecutionContext, lab: Lab, w: World, frames: Frame[]): Promise<void> {
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

