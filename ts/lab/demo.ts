// `npm run demo` (root): two namespaces joined by a veth pair, a pim daemon
// in each, their `pim status` and `pim peers`, a ping across the encrypted
// tunnel, then everything removed — also when interrupted.

import { CLI_JS, prepareNode, startDaemon, waitForPeerState, writeConfig, type MeshNode } from './mesh.js';
import { run } from './exec.js';
import { cleanupOnExit, Lab, labAvailable } from './netns.js';

function banner(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

async function pim(m: MeshNode, ...args: string[]): Promise<void> {
  banner(`${m.label}$ pim ${args.join(' ')}`);
  const r = await run(process.execPath, [CLI_JS, ...args, '-c', m.configPath]);
  process.stdout.write(r.stdout);
}

async function main(): Promise<number> {
  const available = labAvailable();
  if (!available.ok) {
    process.stderr.write(`pim demo: ${available.reason}; run it as root: sudo npm run demo\n`);
    return 1;
  }
  const lab = Lab.create('demo');
  cleanupOnExit(lab);
  try {
    const [na, nb] = await Promise.all([lab.addNode('alpha'), lab.addNode('bravo')]);
    const link = await lab.link(na, nb, { subnet: '198.18.0.0/24' });
    banner(`namespaces ${na.ns} (${link.addrA}) and ${nb.ns} (${link.addrB}), joined by a veth pair`);
    const alpha = await prepareNode(lab, na, { label: 'alpha' });
    const bravo = await prepareNode(lab, nb, { label: 'bravo' });
    writeConfig(alpha, [{ address: `${link.addrB}:9100`, publicKey: bravo.publicKey, label: 'bravo' }], { label: 'alpha' });
    writeConfig(bravo, [{ address: `${link.addrA}:9100`, publicKey: alpha.publicKey, label: 'alpha' }], { label: 'bravo' });
    await Promise.all([startDaemon(lab, alpha), startDaemon(lab, bravo)]);
    await Promise.all([waitForPeerState(alpha, bravo, 'active'), waitForPeerState(bravo, alpha, 'active')]);
    for (const m of [alpha, bravo]) {
      await pim(m, 'status');
      await pim(m, 'peers');
    }
    const target = ((await lab.exec(nb, 'ip', ['-4', '-o', 'addr', 'show', 'pim0'])).stdout.match(/inet ([\d.]+)/) ?? [])[1];
    if (!target) throw new Error("bravo's pim0 has no IPv4 address");
    banner(`alpha$ ping -c 5 ${target}   (bravo's mesh IP, through the Noise IK tunnel)`);
    process.stdout.write((await lab.exec(na, 'ping', ['-c', '5', '-i', '0.2', target])).stdout);
    await pim(alpha, 'peers');
    return 0;
  } finally {
    await lab.cleanup();
    banner('cleaned up: daemons stopped, namespaces, veths and temp files removed');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pim demo: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
