// `pim watch` against real daemons in namespaces: in a terminal (tmux) it
// draws this node, its peers (state, path, traffic rates) and routing,
// redraws in place as things change (a route on with no gateway puts the red
// BLOCKING INTERNET banner on top, an event appears), and quits on q;
// piped, it prints plain lines, one per event.

import { CLI_JS, rpcCall, startDaemon, waitForPeerState } from '../ts/lab/mesh.js';
import { labTests, pimOk, staticPair } from './helpers/lab.js';
import { Tmux } from './helpers/tmux.js';

const labTest = labTests({ prefix: 'watch', timeoutMs: 180_000 });

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_')) env[k] = v;
  return env;
}

labTest('pim watch in a terminal shows the peers and routing, redraws in place as they change, and quits on q', async (t, lab) => {
  const { a, b, na } = await staticPair(lab);
  await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  await waitForPeerState(a, b, 'active');
  const short = b.nodeId.slice(0, 8);
  const term = await Tmux.start(t, [process.execPath, CLI_JS, 'watch', '-c', a.configPath], { env: cleanEnv(), width: 150, height: 40 });
  const row = (s: string[]): string | undefined => s.find((l) => l.startsWith(short));
  await term.waitFor(t, "B's row, active and direct", (s) => s.some((l) => l.startsWith('pim watch: node alpha')) && /bravo .* active +direct/.test(row(s) ?? ''));

  // Traffic through the tunnel shows as a rate in B's row.
  const bIp = ((await rpcCall(b, 'status')) as { mesh_ip: string }).mesh_ip;
  lab.spawn(na, 'ping', ['-c', '40', '-i', '0.2', '-s', '1000', bIp]);
  await term.waitFor(t, 'a traffic rate for B', (s) => /\d+(\.\d)? (B|KiB)\/s +\d/.test(row(s) ?? ''), 20_000);

  // Routing on with no gateway: the banner on top, the event listed; still one frame, drawn in place.
  await pimOk(t, a, 'route', 'on');
  const blocked = await term.waitFor(t, 'the BLOCKING INTERNET banner and the route_on event', (s) => s[0]!.startsWith('BLOCKING INTERNET') && s.some((l) => / route_on$/.test(l)));
  t.is(blocked.filter((l) => l.startsWith('pim watch: node alpha')).length, 1, 'one header: redrawn in place, not scrolled');
  t.regex(await term.screenWithEscapes(), /\x1b\[[0-9;]*41[0-9;]*m[^\n]*BLOCKING INTERNET/, 'the banner is red');
  await pimOk(t, a, 'route', 'off');
  await term.waitFor(t, 'the banner gone', (s) => s[0]!.startsWith('pim watch: node alpha') && s.some((l) => / route_off$/.test(l)));

  await term.type('q');
  t.is(await term.waitForExit(t), 0);
  const after = await term.screen();
  t.false(after.some((l) => l.startsWith('pim watch:')), 'the terminal is given back: the watch screen is gone');
});

labTest('pim watch piped prints the peers, then one plain line per event, and stops on SIGINT', async (t, lab) => {
  const { a, b, na } = await staticPair(lab);
  await Promise.all([startDaemon(lab, a), startDaemon(lab, b)]);
  await waitForPeerState(a, b, 'active');
  const watch = lab.spawn(na, process.execPath, [CLI_JS, 'watch', '-c', a.configPath]);
  await watch.waitForOutput(new RegExp(`peer ${b.nodeId.slice(0, 8)} \\(bravo\\) active direct`), 20_000);
  await pimOk(t, a, 'route', 'on');
  await watch.waitForOutput(/Z kill_switch engaged=true/, 20_000);
  watch.kill('SIGINT');
  const exit = await watch.waitExit(10_000);
  t.is(exit.code, 0, watch.output());
  const lines = watch.output().trimEnd().split('\n');
  t.true(lines[0]!.includes('watching node alpha'), lines[0]);
  for (const l of lines) t.regex(l, /^\d{4}-\d\d-\d\dT\S+Z /, 'every line is timestamped');
  t.false(watch.output().includes('\x1b['), 'no escape sequences when not a terminal');
});
