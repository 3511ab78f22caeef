// Which directly connected subnets the kill-switch lets through outside the
// tunnel. Only subnets inside address ranges that are never the internet
// qualify: a network that hands out a public subnet (a hostile DHCP server,
// the "LocalNet" attack on VPNs) would otherwise get the traffic to every
// internet address in it, in clear, past the kill-switch. A public subnet on
// the LAN stays reachable only through the tunnel while routing is on.

import { inPrefix, parseCidr } from '../net/ipv4.js';

/** Private (RFC 1918), shared (RFC 6598), link-local (RFC 3927) and benchmarking (RFC 2544) space. */
export const LAN_RANGES = ['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '198.18.0.0/15'] as const;

const ranges = LAN_RANGES.map((r) => parseCidr(r)!);

export interface LocalSubnets {
  /** Inside a LAN range: reachable outside the tunnel. */
  exempt: string[];
  /** Anything else (or unreadable): blocked outside the tunnel. */
  refused: string[];
}

/** Splits the host's local subnets by whether they lie wholly inside one of LAN_RANGES. */
export function splitLocalSubnets(subnets: readonly string[]): LocalSubnets {
  const out: LocalSubnets = { exempt: [], refused: [] };
  for (const s of subnets) {
    // `ip route` writes a host route without its /32.
    const c = parseCidr(s.includes('/') ? s : `${s}/32`);
    const inside = c !== null && ranges.some((r) => c.prefixLen >= r.prefixLen && inPrefix(c.network, r.network, r.prefixLen));
    (inside ? out.exempt : out.refused).push(s);
  }
  return out;
}

