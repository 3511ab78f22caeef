// Turns static peers' `host:port` into the `ip:port` the engine needs. Names
// are resolved (IPv4 only, as the underlay is IPv4) at start and on reload;
// a name that does not resolve leaves the peer waiting to be dialled.

import { lookup } from 'node:dns/promises';
import type { PeerConfig } from '../config/schema.js';
import { parseHostPort, parseIpv4 } from '../net/ipv4.js';

export interface ResolveFailure {
  publicKey: string;
  address: string;
  message: string;
}

export async function resolveEndpoints(
  peers: readonly PeerConfig[],
): Promise<{ endpoints: Map<string, string>; failures: ResolveFailure[] }> {
  const endpoints = new Map<string, string>();
  const failures: ResolveFailure[] = [];
  await Promise.all(
    peers.map(async (p) => {
      const hp = parseHostPort(p.address);
      if (!hp) {
        failures.push({ publicKey: p.public_key, address: p.address, message: 'not host:port' });
        return;
      }
      if (parseIpv4(hp.host) !== null) {
        endpoints.set(p.public_key, `${hp.host}:${hp.port}`);
        return;
      }
      try {
        const { address } = await lookup(hp.host, { family: 4 });
        endpoints.set(p.public_key, `${address}:${hp.port}`);
      } catch (err) {
        failures.push({ publicKey: p.public_key, address: p.address, message: (err as Error).message });
      }
    }),
  );
  return { endpoints, failures };
}
