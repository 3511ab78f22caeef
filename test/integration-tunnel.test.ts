// Two real daemons in two network namespaces joined by a veth pair, static
// peers configured by public key both ways: the tunnel carries pings, the wire
// shows only UDP on port 9100 and never the payload, and SIGTERM leaves
// nothing behind. Root only (CI runs as root).

import * as fs from 'node:fs';
import { startCapture } from '../ts/lab/capture.js';
import { prepareNode, rpcCall, startDaemon, waitForPeerState, writeConfig } from '../ts/lab/mesh.js';
import { containsBytes, ETHERTYPE } from '../ts/lab/pcap.js';
import { labTests, staticPair } from './helpers/lab.js';

const labTest = labTests({ prefix: 'tun' });

const PATTERN = 'a5c3e1f00d15ea5e5eedfacec0ffee42';

labTest('pings cross the tunnel, the wire shows only UDP 9100 and never the payload', async (t, lab) => {
  const { a, b, na, link } = await staticPair(lab);
  await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  const row = await waitForPeerState(a, b, 'active');
  t.is(row.label, 'bravo');
  t.is(typeof row.last_handshake_s, 'number', 'a handshake time is reported');
  await waitForPeerState(b, a, 'active');

  const status = (await rpcCall(b, 'status')) as { mesh_ip: string };
  const capture = await startCapture(lab, na, link.ifA);
  const ping = await lab.exec(na, 'ping', ['-c', '20', '-i', '0.1', '-W', '2', '-p', PATTERN, status.mesh_ip]);
  const frames = await capture.stop();

  t.regex(ping.stdout, /20 packets transmitted, 20 received, 0% packet loss/);
  const ipv4 = frames.filter((f) => f.ethertype === ETHERTYPE.IPV4);
  t.true(ipv4.length >= 40, `at least the 20 requests and 20 replies were captured (${ipv4.length})`);
  const notPim = ipv4.filter((f) => !(f.udp && (f.udp.srcPort === 9100 || f.udp.dstPort === 9100)));
  t.deepEqual(notPim.map((f) => `${f.ip?.src} > ${f.ip?.dst} proto ${f.ip?.protocol}`), [], 'only UDP to or from port 9100');
  const others = frames.filter((f) => f.ethertype !== ETHERTYPE.IPV4 && f.ethertype !== ETHERTYPE.ARP);
  t.is(others.length, 0, 'nothing but IPv4 and ARP on the wire');
  const pattern = Buffer.from(PATTERN, 'hex');
  t.false(frames.some((f) => containsBytes(f, pattern)), 'the ping payload never appears in clear');

  const stats = ((await rpcCall(a, 'status')) as { stats: { tx_packets: number } }).stats;
  t.true(stats.tx_packets >= 20);
});

labTest('SIGTERM removes the TUN device, the socket and the process', async (t, lab) => {
  const { a, b, na, nb } = await staticPair(lab);
  const [pa, pb] = await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  await waitForPeerState(a, b, 'active');
  pa.kill('SIGTERM');
  pb.kill('SIGTERM');
  const [ea, eb] = await Promise.all([pa.waitExit(10_000), pb.waitExit(10_000)]);
  t.deepEqual([ea.code, eb.code], [0, 0], 'both exit 0');
  for (const [node, m] of [[na, a], [nb, b]] as const) {
    const link = await lab.exec(node, 'ip', ['link', 'show', 'pim0'], { allowFailure: true });
    t.not(link.code, 0, `no pim0 left in ${node.name}`);
    t.false(fs.existsSync(m.socketPath), `no control socket left for ${m.label}`);
  }
});

labTest('a second daemon for the same socket refuses to start and the first keeps serving', async (t, lab) => {
  const { a } = await staticPair(lab);
  await startDaemon(lab, a);
  const second = lab.spawn(a.node, process.execPath, [require.resolve('../ts/main.js'), '-c', a.configPath]);
  const exit = await second.waitExit(10_000);
  t.is(exit.code, 1);
  t.regex(second.output(), /^pim-daemon: another pim-daemon is already running on /m);
  t.notRegex(second.output(), /\n\s+at /, 'no stack trace');
  const status = (await rpcCall(a, 'status')) as { node: string };
  t.is(status.node, 'alpha');
});

labTest('without CAP_NET_ADMIN the daemon exits 1 with one clear line and leaves no socket', async (t, lab) => {
  const node = await lab.addNode('nocap');
  const m = await prepareNode(lab, node, { label: 'nocap' });
  writeConfig(m, [], { label: 'nocap', listenPort: 0 });
  const proc = lab.spawn(node, 'setpriv', ['--bounding-set=-net_admin', '--inh-caps=-net_admin', process.execPath, require.resolve('../ts/main.js'), '-c', m.configPath]);
  const exit = await proc.waitExit(10_000);
  t.is(exit.code, 1);
  t.regex(proc.output(), /^pim-daemon: cannot create TUN device pim0: .*CAP_NET_ADMIN/m);
  t.notRegex(proc.output(), /\n\s+at /, 'no stack trace');
  t.false(fs.existsSync(m.socketPath), 'the control socket was removed');
});
