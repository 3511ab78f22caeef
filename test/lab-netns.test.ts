import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { startCapture } from '../ts/lab/capture.js';
import { run } from '../ts/lab/exec.js';
import { Lab } from '../ts/lab/netns.js';
import { ETHERTYPE, containsBytes, type Frame } from '../ts/lab/pcap.js';
import { labTest } from './helpers/lab.js';

function newLab(t: ExecutionContext): Lab {
  const lab = Lab.create('test');
  t.teardown(() => lab.cleanup());
  return lab;
}

async function twoNodes(lab: Lab, subnet: string) {
  const [a, b] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(a, b, { subnet });
  return { a, b, link };
}

/** Alive and not a zombie: a zombie has already exited, it just was not reaped. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function namespaces(): Promise<string> {
  return (await run('ip', ['netns', 'list'])).stdout;
}

const ICMP = 1;
const ECHO_REPLY = 0;
const ECHO_REQUEST = 8;

labTest('linked nodes ping each other and a capture sees the ping pattern, without IPv6 noise', async (t) => {
  const lab = newLab(t);
  const { a, b, link } = await twoNodes(lab, '198.18.1.0/24');
  t.deepEqual([link.addrA, link.addrB], ['198.18.1.1', '198.18.1.2']);
  t.true(link.ifA.length <= 15 && link.ifB.length <= 15);

  const everything = await startCapture(lab, b, link.ifB);
  const icmpOnly = await startCapture(lab, a, link.ifA, { filter: 'icmp' });
  const pattern = 'a5c3f00dfeed1234';
  await lab.exec(a, 'ping', ['-c', '2', '-W', '1', '-p', pattern, link.addrB]);
  const fourEchoes = (frames: Frame[]): boolean => frames.filter((f) => f.ip?.protocol === ICMP).length >= 4;
  await Promise.all([everything.waitFor('the 4 echoes', fourEchoes), icmpOnly.waitFor('the 4 echoes', fourEchoes)]);
  const [seenByB, seenByA] = await Promise.all([everything.stop(), icmpOnly.stop()]);

  const echoes = seenByB.filter((f) => f.ip?.protocol === ICMP);
  t.is(echoes.filter((f) => f.ip!.payload[0] === ECHO_REQUEST && f.ip!.src === link.addrA).length, 2);
  t.is(echoes.filter((f) => f.ip!.payload[0] === ECHO_REPLY && f.ip!.src === link.addrB).length, 2);
  t.true(echoes.every((f) => containsBytes(f, Buffer.from(pattern, 'hex'))));
  t.false(seenByB.some((f) => f.ethertype === ETHERTYPE.IPV6), 'IPv6 is off in lab namespaces');

  t.is(seenByA.length, 4);
  t.true(seenByA.every((f) => f.ip?.protocol === ICMP), 'the capture filter applies');
});

labTest('cleanup removes namespaces, veths, temp dirs and processes, and can run twice', async (t) => {
  const lab = newLab(t);
  const { a, link } = await twoNodes(lab, '198.18.2.0/24');
  const dir = await lab.tmpDir();
  const sleeper = lab.spawn(a, 'sleep', ['1000']);
  t.true((await namespaces()).includes(`${lab.id}-a`));
  await lab.exec(a, 'ip', ['link', 'show', link.ifA]);
  t.true(existsSync(dir));

  await lab.cleanup();
  await lab.cleanup();

  t.false((await namespaces()).includes(lab.id));
  const rootLinks = (await run('ip', ['-o', 'link'])).stdout;
  t.false(rootLinks.includes(link.ifA) || rootLinks.includes(link.ifB));
  t.false(existsSync(dir));
  t.deepEqual(sleeper.exitStatus, { code: null, signal: 'SIGTERM' });
  t.false(alive(sleeper.pid));
  await t.throwsAsync(lab.addNode('c'), { message: /has been cleaned up/ });
});

labTest('cleanup SIGKILLs a process that ignores SIGTERM', async (t) => {
  const lab = newLab(t);
  const node = await lab.addNode('a');
  const stubborn = lab.spawn(node, process.execPath, ['-e', `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`]);
  await stubborn.waitForOutput(/ready/, 5000);
  await lab.cleanup();
  t.is(stubborn.exitStatus?.signal, 'SIGKILL');
  t.false(alive(stubborn.pid));
});

labTest('cleanup also stops the children of a spawned process, and its log file has its output', async (t) => {
  const lab = newLab(t);
  const node = await lab.addNode('a');
  const logFile = `${await lab.tmpDir()}/sh.log`;
  const shell = lab.spawn(node, 'sh', ['-c', 'sleep 1000 & echo "child $!"; wait'], { logFile });
  const [, childPid] = await shell.waitForOutput(/child (\d+)/, 5000);
  t.regex(readFileSync(logFile, 'utf8'), /child \d+/);
  t.true(alive(Number(childPid)));
  await lab.cleanup();
  t.false(alive(Number(childPid)));
});

labTest('two labs created at once do not collide', async (t) => {
  const [one, two] = [newLab(t), newLab(t)];
  t.not(one.id, two.id);
  // The same node names and subnet in both: only the run id keeps them apart.
  const [x, y] = await Promise.all([twoNodes(one, '198.18.3.0/24'), twoNodes(two, '198.18.3.0/24')]);
  t.not(x.link.ifA, y.link.ifA);
  await Promise.all([
    one.exec(x.a, 'ping', ['-c', '2', '-W', '1', x.link.addrB]),
    two.exec(y.a, 'ping', ['-c', '2', '-W', '1', y.link.addrB]),
  ]);
});

labTest('exec failures name the command and what it printed', async (t) => {
  const lab = newLab(t);
  const node = await lab.addNode('a');
  await t.throwsAsync(lab.exec(node, 'ip', ['link', 'show', 'nosuchdev0']), {
    message: /`ip netns exec pim-test-[0-9a-f]{6}-a ip link show nosuchdev0` exited with code 1: .*nosuchdev0/,
  });
  const tolerated = await lab.exec(node, 'ip', ['link', 'show', 'nosuchdev0'], { allowFailure: true });
  t.is(tolerated.code, 1);
});

test('run rejects a command that outlives its timeout', async (t) => {
  await t.throwsAsync(run('sleep', ['5'], { timeoutMs: 100 }), { message: /`sleep 5` did not finish within 100 ms/ });
});

test('run says when a command is not installed', async (t) => {
  await t.throwsAsync(run('pim-no-such-command', []), { message: /pim-no-such-command is not installed or not on PATH/ });
});

test('lab prefixes and node names are checked before anything is created', async (t) => {
  t.throws(() => Lab.create('Bad Prefix'), { message: /lab prefix must be/ });
  const lab = Lab.create('test');
  await t.throwsAsync(lab.addNode('UPPER'), { message: /node name must be/ });
  await lab.cleanup();
});
