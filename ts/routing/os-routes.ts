// The OS's routing for "route internet via mesh" (split-default routes and
// policy rules) and the gateway's NAT and forwarding. The kill-switch's
// ruleset is in os-killswitch.ts, the system resolver in os-dns.ts; these
// three are the only files that change the OS's network configuration.
//
// Routing on (as wg-quick): 0.0.0.0/1 and 128.0.0.0/1 via the mesh interface
// in table ROUTE_TABLE; rule A looks up main with default routes suppressed
// (the local subnet keeps working); rule B sends every packet that does not
// carry FWMARK to ROUTE_TABLE. The daemon's own UDP carries FWMARK (SO_MARK),
// so it keeps using the underlay even when the gateway is off-subnet.
// Behind each half sits an `unreachable` route of a higher metric: when the
// mesh interface goes (the daemon crashed, was killed, or stopped in
// lockdown) the kernel drops the interface's routes, and internet-bound
// packets, local or forwarded, then meet `unreachable` rather than the main
// table's default route. The nftables kill-switch blocks them as well.

import * as fs from 'node:fs';
import { PimError } from '../errors.js';
import { interfaceNameProblem } from '../net/ifname.js';
import { ifname, quiet, sh } from './os-exec.js';

export const FWMARK = 0x7069;
export const ROUTE_TABLE = 7069;
const RULE_PREF_LOCAL = 7068;
const RULE_PREF_TUNNEL = 7069;
/** The metric of the `unreachable` halves: above the mesh interface's routes (metric 0). */
const FALLBACK_METRIC = 7069;
export const GATEWAY_TABLE = 'pim_gateway';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

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
    await sh('ip', ['-4', 'route', 'replace', 'unreachable', half, 'metric', String(FALLBACK_METRIC), 'table', String(ROUTE_TABLE)]);
  }
  await removeRules();
  await sh('ip', ['-4', 'rule', 'add', 'pref', String(RULE_PREF_LOCAL), 'table', 'main', 'suppress_prefixlength', '0']);
  await sh('ip', ['-4', 'rule', 'add', 'pref', String(RULE_PREF_TUNNEL), 'not', 'fwmark', `0x${FWMARK.toString(16)}`, 'table', String(ROUTE_TABLE)]);
}

export async function removeSplitDefault(): Promise<void> {
  await removeRules();
  await quiet(sh('ip', ['-4', 'route', 'flush', 'table', String(ROUTE_TABLE)]));
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
