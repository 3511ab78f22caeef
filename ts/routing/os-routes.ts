// The only file that changes the OS's routing and firewall: split-default
// routes and policy rules for "route internet via mesh", the nftables
// kill-switch that outlives the daemon, and the gateway's NAT.
//
// Routing on (as wg-quick): 0.0.0.0/1 and 128.0.0.0/1 via the mesh interface
// in table ROUTE_TABLE; rule A looks up main with default routes suppressed
// (the local subnet keeps working); rule B sends every packet that does not
// carry FWMARK to ROUTE_TABLE. The daemon's own UDP carries FWMARK (SO_MARK),
// so it keeps using the underlay even when the gateway is off-subnet.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { PimError } from '../errors.js';
import { interfaceNameProblem } from '../net/ifname.js';

export const FWMARK = 0x7069;
export const ROUTE_TABLE = 7069;
const RULE_PREF_LOCAL = 7068;
const RULE_PREF_TUNNEL = 7069;
export const KILLSWITCH_TABLE = 'pim_killswitch';
export const GATEWAY_TABLE = 'pim_gateway';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

// The system's own tools, whatever PATH the daemon inherited: under npm,
// node_modules/.bin comes first and holds an unrelated program named `nft`.
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const COMMAND_TIMEOUT_MS = 10_000;

function sh(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group: a Ctrl-C or a signal sent to the daemon's group
    // must not kill an nft or ip half way (the daemon decides when to stop).
    const child = spawn(cmd, args, { env: { ...process.env, PATH: SYSTEM_PATH }, detached: true, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    const what = `${cmd} ${args.join(' ')}`;
    child.on('error', (err) => {
      clearTimeout(timer);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new PimError('io_failed', missing ? `${cmd} is not installed` : `${what} failed: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new PimError('io_failed', `${what} failed (${signal ? `killed by ${signal}` : `exit ${String(code)}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    if (child.stdin) {
      // A command that exits without reading its input (it failed first) is reported by 'close', not as EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** Every interface name reaches `ip` and `nft` through here: a bad one never becomes part of a command or a ruleset. */
function ifname(name: string): string {
  const problem = interfaceNameProblem(name);
  if (problem !== null) throw new PimError('invalid_params', `refusing to configure the network: ${problem}`);
  return name;
}

const quiet = async (p: Promise<unknown>): Promise<boolean> => p.then(() => true, () => false);

async function removeRules(): Promise<void> {
  for (const pref of [RULE_PREF_LOCAL, RULE_PREF_TUNNEL]) {
    while (await quiet(sh('ip', ['-4', 'rule', 'del', 'pref', String(pref)]))) {
      // a rule may have been added more than once by an earlier crash; remove every copy
    }
  }
}

export async function installSplitDefault(tun: string): Promise<void> {
  ifname(tun);
  for (const half of ['0.0.0.0/1', '128.0.0.0/1']) {
    await sh('ip', ['-4', 'route', 'replace', half, 'dev', tun, 'table', String(ROUTE_TABLE)]);
  }
  await removeRules();
  await sh('ip', ['-4', 'rule', 'add', 'pref', String(RULE_PREF_LOCAL), 'table', 'main', 'suppress_prefixlength', '0']);
  await sh('ip', ['-4', 'rule', 'add', 'pref', String(RULE_PREF_TUNNEL), 'not', 'fwmark', `0x${FWMARK.toString(16)}`, 'table', String(ROUTE_TABLE)]);
}

export async function removeSplitDefault(): Promise<void> {
  await removeRules();
  await quiet(sh('ip', ['-4', 'route', 'flush', 'table', String(ROUTE_TABLE)]));
}

/** The split routes currently in ROUTE_TABLE (empty when none). */
export async function splitDefaultRoutes(): Promise<string[]> {
  const out = await sh('ip', ['-4', '-j', 'route', 'show', 'table', String(ROUTE_TABLE)]).catch(() => '[]');
  return (JSON.parse(out || '[]') as { dst: string }[]).map((r) => r.dst);
}

/** Directly connected IPv4 subnets outside the tunnel: what stays reachable under the kill-switch. */
export async function localSubnets(tun: string): Promise<string[]> {
  ifname(tun);
  const routes = JSON.parse((await sh('ip', ['-4', '-j', 'route', 'show', 'table', 'main'])) || '[]') as { dst: string; dev?: string; scope?: string }[];
  return routes.filter((r) => r.scope === 'link' && r.dev !== tun && r.dst !== 'default').map((r) => r.dst);
}

/**
 * Blocks every packet leaving the machine except: loopback, the tunnel, the
 * daemon's own marked UDP, and the local subnets. Lives in the kernel, so it
 * holds when the daemon dies; the next start or `route off` removes it.
 */
export async function installKillSwitch(tun: string, subnets: readonly string[]): Promise<void> {
  ifname(tun);
  const allowed = ['255.255.255.255', '224.0.0.0/4', ...subnets].join(', ');
  const script = `table inet ${KILLSWITCH_TABLE}
delete table inet ${KILLSWITCH_TABLE}
table inet ${KILLSWITCH_TABLE} {
  chain output {
    type filter hook output priority filter; policy accept;
    oifname "lo" accept
    meta mark 0x${FWMARK.toString(16)} accept
    oifname "${tun}" accept
    ip daddr { ${allowed} } accept
    ip6 daddr { fe80::/10, ff00::/8 } accept
    counter reject with icmpx type admin-prohibited
  }
}
`;
  await sh('nft', ['-f', '-'], script);
}

export async function removeKillSwitch(): Promise<void> {
  await quiet(sh('nft', ['delete', 'table', 'inet', KILLSWITCH_TABLE]));
}

export function killSwitchInstalled(): Promise<boolean> {
  return quiet(sh('nft', ['list', 'table', 'inet', KILLSWITCH_TABLE]));
}

/** What a gateway keeps the mesh away from (docs/SECURITY.md). */
export interface GatewayGuard {
  /** The gateway's own mesh IP: the one host address mesh peers may reach. */
  meshIp: string;
  /** The host's addresses and local subnets (CIDRs); null when [gateway] allow_lan leaves it to the engine. */
  lan: readonly string[] | null;
}

/**
 * Masquerades the mesh out of `natIf`, lets answers back in, nothing
 * unsolicited; mesh traffic goes out of `natIf` only (to the internet),
 * never to the host's other addresses or its local subnets unless the
 * operator allowed the LAN (the engine then keeps peers admitted on first
 * use out of it).
 */
export async function installGatewayNat(tun: string, natIf: string, meshPrefix: string, guard: GatewayGuard): Promise<void> {
  ifname(tun);
  ifname(natIf);
  const lanRules =
    guard.lan === null
      ? ''
      : `  set lan {
    type ipv4_addr; flags interval; auto-merge;${guard.lan.length > 0 ? `\n    elements = { ${guard.lan.join(', ')} }` : ''}
  }
`;
  const forwardLan = guard.lan === null ? `    iifname "${tun}" accept\n` : `    iifname "${tun}" ip daddr @lan drop\n    iifname "${tun}" oifname "${natIf}" accept\n    iifname "${tun}" drop\n`;
  const inputLan = guard.lan === null ? '' : `  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${tun}" ip daddr != ${guard.meshIp} drop
  }
`;
  const script = `table ip ${GATEWAY_TABLE}
delete table ip ${GATEWAY_TABLE}
table ip ${GATEWAY_TABLE} {
${lanRules}  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${meshPrefix} oifname "${natIf}" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
${forwardLan}    iifname "${natIf}" oifname "${tun}" ct state established,related accept
    iifname "${natIf}" oifname "${tun}" drop
  }
${inputLan}}
`;
  await sh('nft', ['-f', '-'], script);
}

/** The host's IPv4 addresses (as /32) and the subnets they sit in, outside the mesh interface. */
export async function hostNetworks(tun: string): Promise<string[]> {
  ifname(tun);
  const links = JSON.parse((await sh('ip', ['-4', '-j', 'addr', 'show'])) || '[]') as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[];
  const out = new Set<string>();
  for (const link of links) {
    if (link.ifname === tun) continue;
    for (const a of link.addr_info ?? []) {
      out.add(`${a.local}/32`);
      out.add(`${a.local}/${a.prefixlen}`);
    }
  }
  return [...out];
}

export async function removeGatewayNat(): Promise<void> {
  await quiet(sh('nft', ['delete', 'table', 'ip', GATEWAY_TABLE]));
}

export function ipForwarding(): boolean {
  return fs.readFileSync(IP_FORWARD, 'utf8').trim() === '1';
}

export function setIpForwarding(on: boolean): void {
  try {
    fs.writeFileSync(IP_FORWARD, on ? '1\n' : '0\n');
  } catch (err) {
    throw new PimError('gateway_preflight_failed', `cannot ${on ? 'enable' : 'disable'} IPv4 forwarding: ${(err as Error).message}`);
  }
}

export function canSetIpForwarding(): boolean {
  try {
    fs.accessSync(IP_FORWARD, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function nftAvailable(): Promise<boolean> {
  return (await sh('nft', ['--version']).catch(() => '')).includes('nftables');
}

export function interfaceExists(name: string): boolean {
  return interfaceNameProblem(name) === null && fs.existsSync(`/sys/class/net/${name}`);
}

/** Interfaces that carry a default route: the likely NAT interfaces. */
export async function defaultRouteInterfaces(): Promise<string[]> {
  const out = await sh('ip', ['-4', '-j', 'route', 'show', 'default']).catch(() => '[]');
  return [...new Set((JSON.parse(out || '[]') as { dev?: string }[]).flatMap((r) => (r.dev ? [r.dev] : [])))];
}
