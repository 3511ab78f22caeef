// The kill-switch: an nftables table of pim's own that blocks what must not
// leave the machine outside the tunnel while routing via the mesh is on. It
// lives in the kernel, so it holds while the daemon is dead or stopped; only
// `route off` (and a clean stop without lockdown) removes it, and the next
// start takes over one a crash left (docs/SECURITY.md).
//
// It filters two hooks: output (programs on this machine) and forward
// (containers, VMs or hosts routed through this machine). DNS is checked
// before anything else, so a query never slips out as "local subnet"
// traffic to the usual DHCP resolver.

import { FWMARK } from './os-routes.js';
import { ifname, quiet, sh } from './os-exec.js';

export const KILLSWITCH_TABLE = 'pim_killswitch';

export interface KillSwitchRules {
  /** Directly connected IPv4 subnets outside the tunnel: what stays reachable. */
  subnets: readonly string[];
  /** [route] dns: the only resolvers DNS may go to; empty = DNS only into the tunnel. */
  dns: readonly string[];
}

const REJECT = 'counter reject with icmpx type admin-prohibited';

/** The whole table as one nft script: replacing it is one transaction, never a moment without a block. */
export function killSwitchRuleset(tun: string, rules: KillSwitchRules): string {
  ifname(tun);
  const allowed = ['255.255.255.255', '224.0.0.0/4', ...rules.subnets].join(', ');
  // With resolvers named, DNS to any other address is refused (in the tunnel
  // too); without, DNS may only go into the tunnel, never to the local network.
  const dnsAllowed = rules.dns.length > 0 ? `ip daddr { ${rules.dns.join(', ')} } return` : `oifname "${tun}" return`;
  return `table inet ${KILLSWITCH_TABLE}
delete table inet ${KILLSWITCH_TABLE}
table inet ${KILLSWITCH_TABLE} {
  chain dns {
    ${dnsAllowed}
    ${REJECT}
  }
  chain output {
    type filter hook output priority filter; policy accept;
    oifname "lo" accept
    meta mark 0x${FWMARK.toString(16)} accept
    meta l4proto { tcp, udp } th dport 53 jump dns
    oifname "${tun}" accept
    ip daddr { ${allowed} } accept
    ip6 daddr { fe80::/10, ff00::/8 } accept
    ${REJECT}
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    meta l4proto { tcp, udp } th dport 53 jump dns
    oifname "${tun}" accept
${rules.subnets.length > 0 ? `    ip daddr { ${rules.subnets.join(', ')} } accept\n` : ''}    ${REJECT}
  }
}
`;
}

export async function installKillSwitch(tun: string, rules: KillSwitchRules): Promise<void> {
  await sh('nft', ['-f', '-'], killSwitchRuleset(tun, rules));
}

export async function removeKillSwitch(): Promise<void> {
  await quiet(sh('nft', ['delete', 'table', 'inet', KILLSWITCH_TABLE]));
}

/** Directly connected IPv4 subnets outside the tunnel: what stays reachable under the kill-switch. */
export async function localSubnets(tun: string): Promise<string[]> {
  ifname(tun);
  const routes = JSON.parse((await sh('ip', ['-4', '-j', 'route', 'show', 'table', 'main'])) || '[]') as { dst: string; dev?: string; scope?: string }[];
  return routes.filter((r) => r.scope === 'link' && r.dev !== tun && r.dst !== 'default').map((r) => r.dst);
}
