// nebula between A, B and p1..p8: one CA, a certificate per node, static host
// map (A knows everyone, the others know A), no lighthouse, punchy off,
// firewall open, UDP 4242, 100.65.0.0/24 (A .1, B .2, pk .10+k), tun MTU
// 1420 so every tunnel carries the same packet sizes and the 1372-byte UDP
// workload fits in one packet.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lab/exec.js';
import type { Node } from '../lab/netns.js';
import { stopDaemons, TUNNEL_MTU, waitForLink, waitForPing, type Daemon, type SystemUnderTest } from './daemons.js';

import type { Topology } from './topology.js';

function nebulaConfig(dir: string, name: string, hosts: ReadonlyArray<{ mesh: string; underlay: string }>): string {
  return [
    `pki: {ca: ${dir}/ca.crt, cert: ${dir}/${name}.crt, key: ${dir}/${name}.key}`,
    `static_host_map: {${hosts.map((h) => `"${h.mesh}": ["${h.underlay}:4242"]`).join(', ')}}`,
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

interface Side {
  side: string;
  node: Node;
  mesh: string;
  /** What this side puts in its static host map. */
  hosts: Array<{ mesh: string; underlay: string }>;
}

export async function setupNebula(topo: Topology): Promise<SystemUnderTest> {
  const { lab } = topo;
  const dir = await lab.tmpDir();
  await run('nebula-cert', ['ca', '-name', 'pim-bench', '-out-crt', join(dir, 'ca.crt'), '-out-key', join(dir, 'ca.key')]);
  const a: Side = { side: 'a', node: topo.a, mesh: '100.65.0.1', hosts: [] };
  const b: Side = { side: 'b', node: topo.b, mesh: '100.65.0.2', hosts: [{ mesh: a.mesh, underlay: topo.addrA }] };
  const ps: Side[] = topo.peers.map((p, k) => ({ side: p.node.name, node: p.node, mesh: `100.65.0.${11 + k}`, hosts: [{ mesh: a.mesh, underlay: p.addrA }] }));
  a.hosts = [{ mesh: b.mesh, underlay: topo.addrB }, ...ps.map((p, k) => ({ mesh: p.mesh, underlay: topo.peers[k].addr }))];
  const all = [a, b, ...ps];
  const daemons: Daemon[] = [];
  try {
    for (const s of all) {
      const crt = join(dir, `${s.side}.crt`);
      const key = join(dir, `${s.side}.key`);
      await run('nebula-cert', ['sign', '-ca-crt', join(dir, 'ca.crt'), '-ca-key', join(dir, 'ca.key'), '-name', s.side, '-ip', `${s.mesh}/24`, '-out-crt', crt, '-out-key', key]);
      const config = join(dir, `${s.side}.yml`);
      writeFileSync(config, nebulaConfig(dir, s.side, s.hosts));
      const proc = lab.spawn(s.node, 'nebula', ['-config', config], { logFile: join(dir, `nebula-${s.side}.log`) });
      daemons.push({ side: s.side, proc });
      await waitForLink(topo, s.node, 'neb0', proc);
    }
    for (const s of [b, ...ps]) await waitForPing(topo, s.mesh, 'nebula', daemons);
  } catch (err) {
    await stopDaemons(daemons);
    throw err;
  }
  return {
    id: 'nebula',
    target: b.mesh,
    peerTargets: ps.map((p) => p.mesh),
    daemons: daemons.slice(0, 2),
    iface: 'neb0',
    setup: `nebula (one CA, static_host_map, no lighthouse, punchy off, firewall any), tun MTU ${TUNNEL_MTU}, UDP 4242, 100.65.0.0/24`,
    stop: () => stopDaemons(daemons),
  };
}
