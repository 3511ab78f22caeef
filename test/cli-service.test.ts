// pim-daemon under systemd: the unit `pim service install` writes passes
// `systemd-analyze verify` and has the hardening the packaging promises; the
// daemon sends READY=1 on $NOTIFY_SOCKET (Type=notify) once its control socket
// answers. Root only: the unit is installed in a private mount namespace
// (a tmpfs over /etc/systemd/system), the daemon runs in a network namespace.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../ts/lab/exec.js';
import { CLI_JS, DAEMON_JS, prepareNode, writeConfig } from '../ts/lab/mesh.js';
import { RpcClient } from '../ts/rpc/client.js';
import { labTests } from './helpers/lab.js';

const labTest = labTests({ prefix: 'svc' });

const UNIT = '/etc/systemd/system/pim.service';

/** A shell script run with a tmpfs over /etc/systemd/system that only it sees. */
function inPrivateUnitDir(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', `mount -t tmpfs pim-test ${path.dirname(UNIT)}\n${script}`], {
    allowFailure: true,
    timeoutMs: 60_000,
  });
}

labTest('pim service install writes a hardened Type=notify unit for this pim that systemd-analyze verify accepts', async (t) => {
  const pim = `${process.execPath} ${CLI_JS}`;
  const r = await inPrivateUnitDir(`
${pim} service install
echo ---verify
systemd-analyze verify ${UNIT} 2>&1
echo ---again
${pim} service install
echo '# an edit' >> ${UNIT}
echo ---edited
${pim} service install 2>&1 || echo "exit $?"
echo ---unit
cat ${UNIT}`);
  t.is(r.code, 0, r.stderr);
  const [install, verify, again, edited, unit] = r.stdout.split(/^---\w+\n/m);
  t.regex(install!, new RegExp(`^wrote ${UNIT}\n`));
  t.is(verify, '', 'systemd-analyze verify has nothing to say');
  t.regex(again!, new RegExp(`^wrote ${UNIT}\n`), 'installing the same unit again is fine');
  t.regex(edited!, /^pim: \/etc\/systemd\/system\/pim\.service exists and differs .*\npim: hint: pass --force to replace it\nexit 1\n$/);
  const lines = new Set(unit!.split('\n'));
  t.true(lines.has(`ExecStart=${process.execPath} ${DAEMON_JS} -c /etc/pim/pim.toml`), unit);
  for (const line of [
    'Type=notify',
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Restart=on-failure',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'CapabilityBoundingSet=CAP_NET_ADMIN',
    'StateDirectory=pim',
    'RuntimeDirectory=pim',
    'ConfigurationDirectory=pim',
    'ReadWritePaths=/etc/pim',
    'StandardOutput=journal',
  ]) {
    t.true(lines.has(line), line);
  }
  t.false(fs.readFileSync(path.join(__dirname, '../../packaging/systemd/pim.service'), 'utf8').includes(DAEMON_JS), 'the shipped file is untouched');
});

labTest('pim-daemon sends READY=1 on $NOTIFY_SOCKET once its control socket answers', async (t, lab) => {
  const node = await lab.addNode('a');
  const m = await prepareNode(lab, node, { label: 'alpha' });
  writeConfig(m, [], { label: 'alpha' });
  const notifySocket = path.join(m.dir, 'notify.sock');
  // systemd's side: a datagram socket that prints what it receives.
  const receiver = lab.spawn(node, 'socat', ['-u', `UNIX-RECV:${notifySocket}`, 'STDOUT']);
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(notifySocket)) {
    if (Date.now() > deadline || receiver.exitStatus) throw new Error(`socat did not bind ${notifySocket}: ${receiver.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const daemon = lab.spawn(node, process.execPath, [DAEMON_JS, '-c', m.configPath], { env: { NOTIFY_SOCKET: notifySocket } });
  await receiver.waitForOutput(/READY=1/, 20_000);
  // Ready means ready: the socket answers at once and the engine is up.
  const client = await RpcClient.connect(m.socketPath, { client: 'service-test', timeoutMs: 2000 });
  const status = (await client.call('status')) as { interface: { up: boolean } };
  await client.close();
  t.true(status.interface.up);
  t.is(receiver.output(), 'READY=1');
  daemon.kill('SIGTERM');
  t.is((await daemon.waitExit(10_000)).code, 0);
});
