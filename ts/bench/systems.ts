// The four systems under test, each set up between A and B of the topology
// once per invocation and kept up through every round, so repeated runs hit
// the same daemons (that is what shows whether pim's memory grows). stop()
// removes a system; the Lab removes anything a failed stop leaves.
//
//   raw           iperf3 straight over the veth (MTU 1500)
//   pim           two pim-daemons (mesh.ts), static peers, TUN MTU 1420, UDP 9100
//   wireguard-go  as /work/shared/bench/anchors.sh: MTU 1420, UDP 51820, 100.64.0.0/24;
//                 one interface name per side and run (wg<hex>a, wg<hex>b) since
//                 its control socket /var/run/wireguard/<name>.sock is not per namespace
//   nebula        as anchors.sh (one CA, static host map, no lighthouse, punchy
//                 off), UDP 4242, 100.65.0.0/24, but tun MTU 1420 instead of 1300
//                 so every tunnel carries the same packet sizes and the 1372-byte
//                 UDP workload fits in one packet

import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lab/exec.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, waitUntil, writeConfig, type MeshNode } from '../lab/mesh.js';
import type { LabProcess, Node } from '../lab/netns.js';
import type { SystemId } from './metrics.js';
import type { Topology } from './topology.js';

export const TUNNEL_MTU = 1420;

export interface Daemon {
  /** Which end: 'a' or 'b'. */
  side: 'a' | 'b';
  proc: LabProcess;
}

export interface SystemUnderTest {
  id: SystemId;
  /** B's address in this system: what A's iperf3 and ping aim at. */
  target: string;
  daemons: Daemon[];
  /** pim only: the two nodes, for daemon.metrics. */
  pimNodes?: [MeshNode, MeshNode];
  /** One line for the report: how it was set up. */
  setup: string;
  stop(): Promise<void>;
}

export async function setupSystem(id: SystemId, topo: Topology): Promise<SystemUnderTest> {
  switch (id) {
    case 'raw':
      return {
        id,
        target: topo.addrB,
        daemons: [],
        setup: 'iperf3 and ping straight over the veth pair (MTU 1500)',
        stop: async () => undefined,
      };
    case 'pim':
      return setupPim(topo);
    case 'wireguard-go':
      return setupWireguardGo(topo);
    case 'nebula':
      return setupNebula(topo);
  }
}

async function stopDaemons(daemons: readonly Daemon[]): Promise<void> {
  await Promise.all(
    daemons.map(async ({ proc }) => {
      if (proc.exitStatus) return;
      proc.kill('SIGTERM');
      try {
        await proc.waitExit(5000);
      } catch {
        proc.kill('SIGKILL');
        await proc.waitExit(5000).catch(() => undefined);
      }
    }),
  );
}

/** Until one ping crosses the tunnel (the first ones may start its handshake). */
async function waitForPing(topo: Topology, target: string, what: string, daemons: readonly Daemon[]): Promise<void> {
  await waitUntil(`a ping through ${what} to ${target}`, 20_000, async () => {
    const dead = daemons.find((d) => d.proc.exitStatus);
    if (dead) throw new Error(`${what} on ${dead.side} exited:\n${dead.proc.output()}`);
    const r = await topo.lab.exec(topo.a, 'ping', ['-n', '-c', '1', '-W', '1', target], { allowFailure: true });
    return r.code === 0 ? true : undefined;
  });
}

async function setupPim(topo: Topology): Promise<SystemUnderTest> {
  const { lab } = topo;
  const a = await prepareNode(lab, topo.a, { label: 'alpha' });
  const b = await prepareNode(lab, topo.b, { label: 'bravo' });
  writeConfig(a, [{ address: `${topo.addrB}:9100`, publicKey: b.publicKey, label: 'bravo' }], { label: 'alpha' });
  writeConfig(b, [{ address: `${topo.addrA}:9100`, publicKey: a.publicKey, label: 'alpha' }], { label: 'bravo' });
  const [pa, pb] = await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  const daemons: Daemon[] = [
    { side: 'a', proc: pa },
    { side: 'b', proc: pb },
  ];
  await Promise.all([waitForPeerState(a, b, 'active', 20_000), waitForPeerState(b, a, 'active', 20_000)]);
  const status = (await rpcCall(b, 'status')) as { mesh_ip?: unknown };
  if (typeof status.mesh_ip !== 'string') throw new Error(`pim status on bravo has no mesh_ip: ${JSON.stringify(status)}`);
  await waitForPing(topo, status.mesh_ip, 'pim', daemons);
  return {
    id: 'pim',
    target: status.mesh_ip,
    daemons,
    pimNodes: [a, b],
    setup: `two pim-daemons (dist/ts/main.js, release native build), static peers by public key, TUN MTU ${TUNNEL_MTU}, UDP 9100`,
    stop: () => stopDaemons(daemons),
  };
}

function wgKeyPair(): { privateKey: string; publicKey: string } {
  const pair = generateKeyPairSync('x25519');
  const d = pair.privateKey.export({ format: 'jwk' }).d;
  const x = pair.publicKey.export({ format: 'jwk' }).x;
  if (!d || !x) throw new Error('node:crypto gave an X25519 key without its JWK fields');
  return { privateKey: Buffer.from(d, 'base64url').toString('base64'), publicKey: Buffer.from(x, 'base64url').toString('base64') };
}

async function waitForLink(topo: Topology, node: Node, iface: string, proc: LabProcess): Promise<void> {
  await waitUntil(`${iface} in ${node.ns}`, 10_000, async () => {
    if (proc.exitStatus) throw new Error(`${proc.command} exited:\n${proc.output()}`);
    const r = await topo.lab.exec(node, 'ip', ['link', 'show', iface], { allowFailure: true });
    return r.code === 0 ? true : undefined;
  });
}

async function setupWireguardGo(topo: Topology): Promise<SystemUnderTest> {
  const { lab } = topo;
  const dir = await lab.tmpDir();
  const hex = lab.id.slice(-6);
  const sides = [
    { side: 'a' as const, node: topo.a, iface: `wg${hex}a`, keys: wgKeyPair(), mesh: '100.64.0.1', endpoint: topo.addrA },
    { side: 'b' as const, node: topo.b, iface: `wg${hex}b`, keys: wgKeyPair(), mesh: '100.64.0.2', endpoint: topo.addrB },
  ];
  const daemons: Daemon[] = [];
  for (const s of sides) {
    const proc = lab.spawn(s.node, 'wireguard-go', [s.iface], {
      env: { WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
      logFile: join(dir, `wireguard-go-${s.side}.log`),
    });
    daemons.push({ side: s.side, proc });
    await waitForLink(topo, s.node, s.iface, proc);
  }
  for (const [s, peer] of [
    [sides[0], sides[1]],
    [sides[1], sides[0]],
  ] as const) {
    const keyFile = join(dir, `${s.side}.key`);
    writeFileSync(keyFile, `${s.keys.privateKey}\n`, { mode: 0o600 });
    await lab.exec(s.node, 'wg', ['set', s.iface, 'private-key', keyFile, 'listen-port', '51820', 'peer', peer.keys.publicKey, 'endpoint', `${peer.endpoint}:51820`, 'allowed-ips', `${peer.mesh}/32`]);
    await lab.exec(s.node, 'ip', ['addr', 'add', `${s.mesh}/24`, 'dev', s.iface]);
    await lab.exec(s.node, 'ip', ['link', 'set', s.iface, 'mtu', String(TUNNEL_MTU), 'up']);
  }
  await waitForPing(topo, sides[1].mesh, 'wireguard-go', daemons);
  return {
    id: 'wireguard-go',
    target: sides[1].mesh,
    daemons,
    setup: `wireguard-go (WG_PROCESS_FOREGROUND=1) configured with wg set, interfaces ${sides.map((s) => s.iface).join('/')}, MTU ${TUNNEL_MTU}, UDP 51820, 100.64.0.0/24`,
    stop: async () => {
      await stopDaemons(daemons);
      for (const s of sides) {
        await lab.exec(s.node, 'ip', ['link', 'del', s.iface], { allowFailure: true });
        // wireguard-go removes its socket on SIGTERM, not when it had to be killed.
        rmSync(`/var/run/wireguard/${s.iface}.sock`, { force: true });
      }
    },
  };
}

function nebulaConfig(dir: string, name: string, peerMesh: string, peerUnderlay: string): string {
  return [
    `pki: {ca: ${dir}/ca.crt, cert: ${dir}/${name}.crt, key: ${dir}/${name}.key}`,
    `static_host_map: {"${peerMesh}": ["${peerUnderlay}:4242"]}`,
    'lighthouse: {am_lighthouse: false}',
    'listen: {host: 0.0.0.0, port: 4242}',
    'punchy: {punch: false}',
    `tun: {dev: neb0, mtu: ${TUNNEL_MTU}}`,
    'logging: {level: error}',
    'firewall:',
    '  outbound: [{port: any, proto: any, host: any}]',
    '  inbound: [{port: any, proto: any, host: any}]',
    '',
  ].join('\n');
}

async function setupNebula(topo: Topology): Promise<SystemUnderTest> {
  const { lab } = topo;
  const dir = await lab.tmpDir();
  await run('nebula-cert', ['ca', '-name', 'pim-bench', '-out-crt', join(dir, 'ca.crt'), '-out-key', join(dir, 'ca.key')]);
  const sides = [
    { side: 'a' as const, node: topo.a, mesh: '100.65.0.1', underlay: topo.addrA },
    { side: 'b' as const, node: topo.b, mesh: '100.65.0.2', underlay: topo.addrB },
  ];
  const daemons: Daemon[] = [];
  for (const [s, peer] of [
    [sides[0], sides[1]],
    [sides[1], sides[0]],
  ] as const) {
    const crt = join(dir, `${s.side}.crt`);
    const key = join(dir, `${s.side}.key`);
    await run('nebula-cert', ['sign', '-ca-crt', join(dir, 'ca.crt'), '-ca-key', join(dir, 'ca.key'), '-name', s.side, '-ip', `${s.mesh}/24`, '-out-crt', crt, '-out-key', key]);
    const config = join(dir, `${s.side}.yml`);
    writeFileSync(config, nebulaConfig(dir, s.side, peer.mesh, peer.underlay));
    const proc = lab.spawn(s.node, 'nebula', ['-config', config], { logFile: join(dir, `nebula-${s.side}.log`) });
    daemons.push({ side: s.side, proc });
    await waitForLink(topo, s.node, 'neb0', proc);
  }
  await waitForPing(topo, sides[1].mesh, 'nebula', daemons);
  return {
    id: 'nebula',
    target: sides[1].mesh,
    daemons,
    setup: `nebula (one CA, static_host_map, no lighthouse, punchy off, firewall any), tun MTU ${TUNNEL_MTU}, UDP 4242, 100.65.0.0/24`,
    stop: () => stopDaemons(daemons),
  };
}
