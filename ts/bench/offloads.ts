// Which offloads each tunnel had on: `ethtool -k` of the tunnel interface in
// A. A TUN device opened with IFF_VNET_HDR whose daemon enabled TSO with
// TUNSETOFFLOAD shows tcp-segmentation-offload on; one without shows off. (A
// daemon's UDP GSO/GRO is a socket option no tool shows from outside; pim's
// own gauges for it are in its status.)

import type { Lab, Node } from '../lab/netns.js';

/** The features the report shows, in its column order. */
export const OFFLOAD_FEATURES = ['tx-checksumming', 'tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload'] as const;

/** feature → "on" / "off" (ethtool's "[fixed]" and "[requested on]" notes dropped). */
export function parseEthtoolFeatures(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z0-9-]+):\s+(on|off)\b/);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** The features of `iface` in `node`; undefined when ethtool is missing or fails. */
export async function readOffloads(lab: Lab, node: Node, iface: string): Promise<Record<string, string> | undefined> {
  const r = await lab.exec(node, 'ethtool', ['-k', iface], { allowFailure: true }).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  const all = parseEthtoolFeatures(r.stdout);
  return Object.fromEntries(OFFLOAD_FEATURES.filter((f) => f in all).map((f) => [f, all[f]]));
}
