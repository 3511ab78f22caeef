// The three WireGuard implementations, set up alike: one userspace daemon per
// node creating its interface, configured with `wg set` (A has B and p1..p8
// as peers, each of those has A), MTU 1420, <subnet>.1 for A, .2 for B and
// .10+k for pk. Interface names carry the lab's id and a per-system prefix,
// since the control socket /var/run/wireguard/<name>.sock is not per
// namespace.
//
//   wireguard-go-current  built at a pinned version (build.ts): TUN TSO/GRO and UDP GSO/GRO
//   wireguard-go          Debian's package (v0.0.20220316): no offloads
//   boringtun             boringtun-cli at a pinned version, --threads 1 (its
//                         default of 4 threads is much slower on a 2-core machine)

import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from '../lab/netns.js';
import type { SystemId } from './metrics.js';
import { stopDaemons, TUNNEL_MTU, waitForLink, waitForPing, type Daemon, type SystemUnderTest } from './daemons.js';

import type { Topology } from './topology.js';

export interface WireguardKind {
  id: SystemId;
  command: string;
  /** What the report calls the program: name and version. */
  label: string;
  /** Two letters in the interface names. */
  prefix: string;
  /** The first three octets of the tunnel's /24. */
  subnet: string;
  port: number;
}

function keyPair(): { privateKey: string; publicKey: string } {
  const pair = generateKeyPairSync('x25519');
  const d = pair.privateKey.export({ format: 'jwk' }).d;
  const x = pair.publicKey.export({ format: 'jwk' }).x;
  if (!d || !x) throw new Error('node:crypto gave an X25519 key without its JWK fields');
  return { privateKey: Buffer.from(d, 'base64url').toString('base64'), publicKey: Buffer.from(x, 'base64url').toString('base64') };
}

interface Side {
  side: string;
  node: Node;
  iface: string;
  keys: { privateKey: string; publicKey: string };
  mesh: string;
  /** Where the others reach this side on the underlay. */
  endpoint: string;
}

function daemonArgs(kind: WireguardKind): { args: string[]; env: Record<string, string> } {
  if (kind.id === 'boringtun') return { args: ['--foreground', '--disable-drop-privileges', '--threads', '1'], env: { WG_LOG_LEVEL: 'error' } };
  return { args: [], env: { WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' } };
}

export async function setupWireguard(topo: Topology, kind: WireguardKind): Promise<SystemUnderTest> {
  const { lab } = topo;
  const dir = await lab.tmpDir();
  const hex = lab.id.slice(-6);
  const side = (name: string, node: Node, host: number, endpoint: string): Side => ({
    side: name,
    node,
    iface: `${kind.prefix}${hex}${name}`,
    keys: keyPair(),
    mesh: `${kind.subnet}.${host}`,
    endpoint,
  });
  const a = side('a', topo.a, 1, topo.addrA);
  const b = side('b', topo.b, 2, topo.addrB);
  const ps = topo.peers.map((p, k) => side(p.node.name, p.node, 11 + k, p.addr));
  const all = [a, b, ...ps];
  const daemons: Daemon[] = [];
  const { args, env } = daemonArgs(kind);
  const stop = async (): Promise<void> => {
    await stopDaemons(daemons);
    for (const s of all) {
      await lab.exec(s.node, 'ip', ['link', 'del', s.iface], { allowFailure: true });
      // The daemon removes its socket on SIGTERM, not when it had to be killed.
      rmSync(`/var/run/wireguard/${s.iface}.sock`, { force: true });
    }
  };
  try {
    for (const s of all) {
      const proc = lab.spawn(s.node, kind.command, [...args, s.iface], { env, logFile: join(dir, `${s.iface}.log`) });
      daemons.push({ side: s.side, proc });
      await waitForLink(topo, s.node, s.iface, proc);
    }
    // A's underlay address differs per neighbour: each p_k reaches A over its own veth.
    const links: Array<[Side, Side, string]> = [[b, a, topo.addrA], ...ps.map((p, k): [Side, Side, string] => [p, a, topo.peers[k].addrA])];
    const peersOf = new Map<Side, Array<{ peer: Side; endpoint: string }>>(all.map((s) => [s, []]));
    for (const [s, other, otherEndpoint] of links) {
      peersOf.get(s)?.push({ peer: other, endpoint: otherEndpoint });
      peersOf.get(other)?.push({ peer: s, endpoint: s.endpoint });
    }
    for (const s of all) {
      const keyFile = join(dir, `${s.side}.key`);
      writeFileSync(keyFile, `${s.keys.privateKey}\n`, { mode: 0o600 });
      const peerArgs = (peersOf.get(s) ?? []).flatMap(({ peer, endpoint }) => ['peer', peer.keys.publicKey, 'endpoint', `${endpoint}:${kind.port}`, 'allowed-ips', `${peer.mesh}/32`]);
      await lab.exec(s.node, 'wg', ['set', s.iface, 'private-key', keyFile, 'listen-port', String(kind.port), ...peerArgs]);
      await lab.exec(s.node, 'ip', ['addr', 'add', `${s.mesh}/24`, 'dev', s.iface]);
      await lab.exec(s.node, 'ip', ['link', 'set', s.iface, 'mtu', String(TUNNEL_MTU), 'up']);
    }
    for (const s of [b, ...ps]) await waitForPing(topo, s.mesh, kind.id, daemons);
  } catch (err) {
    await stop();
    throw err;
  }
  const threads = kind.id === 'boringtun' ? ', --threads 1' : '';
  return {
    id: kind.id,
    target: b.mesh,
    peerTargets: ps.map((p) => p.mesh),
    daemons: daemons.slice(0, 2),
    iface: a.iface,
    setup: `${kind.label}${threads} configured with wg set, interfaces ${kind.prefix}<id><node>, MTU ${TUNNEL_MTU}, UDP ${kind.port}, ${kind.subnet}.0/24`,
    stop,
  };
}
