// Each way `pim up` commonly fails to start names the cause and the fix:
// no CAP_NET_ADMIN for the UDP socket's firewall mark, the UDP port in use,
// the interface name held by another TUN device or by an interface of another
// kind, no TUN driver. Real daemons in network namespaces; exit 1 with one
// `pim: ` line and one hint.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import type { RunResult } from '../ts/lab/exec.js';
import { CLI_JS, prepareNode, startDaemon, waitUntil, writeConfig, type MeshNode } from '../ts/lab/mesh.js';
import type { Lab, Node } from '../ts/lab/netns.js';
import { labTests } from './helpers/lab.js';

const labTest = labTests({ prefix: 'startfail' });

async function node(lab: Lab, opts: { listenPort?: number } = {}): Promise<{ n: Node; m: MeshNode }> {
  const n = await lab.addNode('a');
  const m = await prepareNode(lab, n, { label: 'alpha' });
  writeConfig(m, [], { label: 'alpha', ...opts });
  return { n, m };
}

/** `pim up -c <config>` in the node's namespace, run through `wrapper` (e.g. setpriv) if given. */
function up(lab: Lab, n: Node, m: MeshNode, wrapper: string[] = []): Promise<RunResult> {
  const argv = [...wrapper, process.execPath, CLI_JS, 'up', '-c', m.configPath];
  return lab.exec(n, argv[0]!, argv.slice(1), { allowFailure: true, timeoutMs: 30_000 });
}

function failure(t: ExecutionContext, r: RunResult, message: RegExp, hint: RegExp): void {
  t.is(r.code, 1, r.stdout + r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('pim: '));
  t.is(lines.length, 2, r.stderr);
  t.regex(lines[0] ?? '', message);
  t.regex(lines[1] ?? '', hint);
}

labTest('without CAP_NET_ADMIN (not root): the firewall mark needs it; run as root or as the service', async (t, lab) => {
  const { n, m } = await node(lab);
  // The user's own files, as for any non-root user.
  for (const f of [m.dir, m.configPath, `${m.dir}/node.key`]) fs.chownSync(f, 65534, 65534);
  const r = await up(lab, n, m, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  failure(t, r, /^pim: cannot mark UDP 0\.0\.0\.0:9100 with fwmark 0x7069: that needs CAP_NET_ADMIN, which this process does not have$/, /^pim: hint: run it as root \(`sudo pim up`\), or as the systemd service/);
});

labTest('the UDP port in use: says which port and how to find the holder or pick another', async (t, lab) => {
  const { n, m } = await node(lab);
  lab.spawn(n, 'socat', ['-u', 'UDP-RECV:9100', '-']);
  await waitUntil('socat to hold UDP 9100', 10_000, async () => ((await lab.exec(n, 'ss', ['-Huln', 'sport = :9100'])).stdout.trim() === '' ? undefined : true));
  const r = await up(lab, n, m);
  failure(t, r, /^pim: cannot bind UDP 0\.0\.0\.0:9100: the port is already in use$/, /^pim: hint: .*ss -ulpn 'sport = :9100'.*\[transport\] listen_port/);
});

labTest('the interface name held by another daemon\'s TUN device: says so, and how to stop it or rename', async (t, lab) => {
  const { n, m } = await node(lab);
  await startDaemon(lab, m);
  const other = await prepareNode(lab, n, { label: 'second' });
  writeConfig(other, [], { label: 'second', listenPort: 9200 });
  const r = await up(lab, n, other);
  failure(t, r, /^pim: cannot create TUN device pim0: the name is taken by another TUN device/, /^pim: hint: .*\[interface\] name/);
});

labTest('an interface of another kind with the name: says so, and how to see it or rename', async (t, lab) => {
  const { n, m } = await node(lab);
  await lab.exec(n, 'ip', ['link', 'add', 'pim0', 'type', 'bridge']);
  const r = await up(lab, n, m);
  failure(t, r, /^pim: cannot create TUN device pim0: an interface with that name exists and is not a TUN device$/, /^pim: hint: `ip link show pim0` shows it/);
});

labTest('no TUN driver (/dev/net/tun missing): says so, and how to load it or pass it into a container', async (t, lab) => {
  const { n, m } = await node(lab);
  const r = await lab.exec(n, 'unshare', ['--mount', 'sh', '-c', `mount -t tmpfs none /dev/net && exec ${process.execPath} ${CLI_JS} up -c ${m.configPath}`], {
    allowFailure: true,
    timeoutMs: 30_000,
  });
  failure(t, r, /^pim: cannot create TUN device pim0: this machine has no TUN driver \(\/dev\/net\/tun is missing\)$/, /^pim: hint: load it with `modprobe tun`/);
});
