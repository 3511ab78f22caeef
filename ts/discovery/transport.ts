// How discovery reaches the LAN: a UDP socket that hears broadcasts on the
// discovery port and sends to every local IPv4 broadcast address. The daemon
// gets the real one; test daemons get none (they must not announce on the
// developer's network).

import * as dgram from 'node:dgram';
import * as os from 'node:os';
import { formatIpv4, parseIpv4 } from '../net/ipv4.js';

export interface DiscoveryTransport {
  open(port: number, onMessage: (msg: Buffer, from: { address: string; port: number }) => void): Promise<void>;
  /** Sends to every local broadcast address except those on `excludeInterface` (the mesh's own). */
  broadcast(msg: Buffer, port: number, excludeInterface: string): void;
  close(): void;
}

/** IPv4 broadcast addresses of the machine's interfaces (directed broadcast per subnet). */
export function broadcastAddresses(exclude: string): string[] {
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (name === exclude) continue;
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const ip = parseIpv4(a.address);
      const mask = parseIpv4(a.netmask);
      if (ip === null || mask === null || mask === 0xffffffff) continue;
      out.add(formatIpv4((ip | ~mask) >>> 0));
    }
  }
  return [...out];
}

export class UdpDiscoveryTransport implements DiscoveryTransport {
  private socket: dgram.Socket | undefined;

  open(port: number, onMessage: (msg: Buffer, from: { address: string; port: number }) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      s.once('error', reject);
      s.on('message', (msg, rinfo) => onMessage(msg, { address: rinfo.address, port: rinfo.port }));
      s.bind(port, () => {
        s.setBroadcast(true);
        s.off('error', reject);
        // A broken socket must not crash the daemon: discovery is a hint.
        s.on('error', () => undefined);
        this.socket = s;
        resolve();
      });
    });
  }

  broadcast(msg: Buffer, port: number, excludeInterface: string): void {
    for (const address of broadcastAddresses(excludeInterface)) this.socket?.send(msg, port, address);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
