// "Route internet via mesh" and the kill-switch (issue 6, docs/SECURITY.md),
// end to end with real daemons, kernel routing and nftables in network
// namespaces. Packet captures are the judge of leaks. Root only.
//
// The topology (C, U, G, I and the stranger M) is test/helpers/gateway-world.ts;
// the crash, lockdown, forwarding and DNS cases of the kill-switch are in
// integration-killswitch.test.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCapture } from '../ts/lab/capture.js';
import { rpcCall, startDaemon, waitForPeerState, waitUntil } from '../ts/lab/mesh.js';
import {
  describeFrame, dump, KILL_SWITCH_WITHIN_MS, NFT, NPM_BIN, SYSTEM_PATH, noPimLeftovers, nftTables, osState, ping, pingOk, pingReceived,
  pingThroughCaptures, probeInternet, readForward, requestSources, routeOn, selectedGateway, splitRoutes, status, toInternet,
  unexpectedEgress, world, type Json,
} from './helpers/gateway-world.js';
import { eventsOf, labTests, pim, pimOk } from './helpers/lab.js';

/** ROLE_TTL_MS (35 s) plus slack: the longest a withdrawn gateway role may linger. */
const ROLE_GONE_WITHIN_MS = 42_000;

const labTest = labTests({ prefix: 'gw', serial: true, timeoutMs: 150_000 });

// ── 1. Routing off ──────────────────────────────────────────────────────────

labTest('routing off: C reaches I directly, I sees C\'s own underlay address', async (t, lab) => {
  const w = await world(lab);
  const s = await status(w.C);
  t.false(s.route_on);
  t.false(s.kill_switch);
  const { ping: r, atI } = await pingThroughCaptures(lab, w);
  t.true(pingOk(r), r.stdout);
  t.deepEqual(requestSources(atI, w.iAddr), [w.cAddr], 'I sees C itself as the source');
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^routing: direct/);
});

// ── 2. Routing on ───────────────────────────────────────────────────────────

labTest('routing on: I sees G as the source, C\'s uplink carries only UDP to G, status and route.table name G', async (t, lab) => {
  const w = await world(lab);
  const on = await routeOn(t, w);
  t.regex(on, /^routing: (internet via gateway|BLOCKING)/, 'route on prints the routing state');

  const { ping: r, atI, onUplink } = await pingThroughCaptures(lab, w);
  if (!pingOk(r)) await dump(t, lab, w, [...atI, ...onUplink]);
  t.true(pingOk(r), r.stdout);
  t.deepEqual(requestSources(atI, w.iAddr), [w.gAddr], "I sees G's address, never C's");
  t.deepEqual(toInternet(onUplink, w.iAddr).map(describeFrame), [], "no packet to I in clear on C's uplink");
  t.deepEqual(unexpectedEgress(onUplink, w).map(describeFrame), [], "C's uplink: only UDP 9100 to G (and the local subnet)");
  t.true(onUplink.some((f) => f.udp?.dstPort === 9100 && f.ip?.dst === w.gAddr), 'the pings went as UDP to G');

  const s = await status(w.C);
  t.true(s.route_on);
  t.false(s.kill_switch);
  t.is(selectedGateway(s), w.G.nodeId);
  const routeStatus = await pimOk(t, w.C, 'route', 'status');
  t.true(routeStatus.includes(`internet via gateway ${w.G.nodeId}`), routeStatus);
  t.false(routeStatus.includes('BLOCKING'));
  const table = (await rpcCall(w.C, 'route.table')) as { gateways: Json[] };
  t.deepEqual(
    table.gateways.map((g) => [g.node_id, g.selected]),
    [[w.G.nodeId, true]],
    'route.table lists G, selected',
  );
  const statusLine = (await pimOk(t, w.C, 'status')).split('\n')[0]!;
  t.notRegex(statusLine, /BLOCKING/);

  // The OS side: split routes in the policy table, the kill-switch table armed.
  const routes = await splitRoutes(lab, w.c);
  t.regex(routes, /^0\.0\.0\.0\/1 dev pim0/m);
  t.regex(routes, /^128\.0\.0\.0\/1 dev pim0/m);
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'));
  // The gateway's side: NAT table and forwarding on.
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'));
  t.is(await readForward(lab, w.g), '1');
  const gw = JSON.parse(await pimOk(t, w.G, 'gateway', 'status', '--json')) as Json;
  t.like(gw, { active: true, nat_interface: w.gLink.ifB });
});

// ── 3. The gateway's daemon dies ───────────────────────────────────────────

labTest('gateway SIGKILLed: C blocks within liveness detection, banner and event, routes stay, 0 packets to I on C\'s uplink', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  const events = await eventsOf(t, w.C, 'status');

  // One capture from before the kill until after the probes: nothing may reach I's
  // address from C directly, neither while C still believes in G nor once it blocks.
  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const background = lab.spawn(w.c, 'ping', ['-n', '-i', '0.2', '-W', '1', w.iAddr]);
  const killedAt = Date.now();
  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  await waitUntil('C to engage the kill-switch', KILL_SWITCH_WITHIN_MS, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  const detectMs = Date.now() - killedAt;
  t.log(`kill-switch engaged ${detectMs} ms after the gateway was killed`);
  t.true(detectMs <= KILL_SWITCH_WITHIN_MS);

  const probes = await probeInternet(lab, w.c, w.iAddr);
  background.kill('SIGINT');
  await background.waitExit(5000).catch(() => undefined);
  const frames = await capC.stop();

  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink");
  t.deepEqual(unexpectedEgress(frames, w).map(describeFrame), [], "C's uplink: nothing but UDP 9100 to G and the local subnet");
  t.is(pingReceived(probes.ping), 0, `ping to I fails: ${probes.ping.stdout}${probes.ping.stderr}`);
  t.not(probes.tcp.code, 0, 'a TCP connect to I fails');

  // The local subnet stays reachable.
  const local = await ping(lab, w.c, w.uOnC);
  t.true(pingOk(local), `the local subnet (U at ${w.uOnC}) stays reachable: ${local.stdout}${local.stderr}`);

  // Status, banner, event.
  const s = await status(w.C);
  t.true(s.route_on);
  t.true(s.kill_switch);
  t.is(selectedGateway(s), null);
  t.true(Number(((s.stats as Json).drops as Json).no_gateway) > 0, 'the engine counted the packets it dropped');
  const statusOut = await pimOk(t, w.C, 'status');
  t.regex(statusOut.split('\n')[0]!, /^BLOCKING INTERNET/, statusOut);
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^BLOCKING INTERNET: .*no gateway is reachable/);
  const ks = await waitUntil('a kill_switch status.event', 2000, async () => events.find((e) => e.kind === 'kill_switch'));
  t.like(ks, { kind: 'kill_switch', detail: { engaged: true } });
  t.true(events.some((e) => e.kind === 'gateway_lost' && (e.detail as Json).node_id === w.G.nodeId), 'gateway_lost was sent');

  // The split routes are still installed: internet is blocked, not routed around the mesh.
  const routes = await splitRoutes(lab, w.c);
  t.regex(routes, /^0\.0\.0\.0\/1 dev pim0/m);
  t.regex(routes, /^128\.0\.0\.0\/1 dev pim0/m);
});

// ── 4. The client's daemon dies ────────────────────────────────────────────

labTest('client SIGKILLed with routing on: 0 packets leak on its uplink; after a restart, route off restores direct access', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  w.procC.kill('SIGKILL');
  await w.procC.waitExit(5000);

  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const probes = await probeInternet(lab, w.c, w.iAddr);
  const frames = await capC.stop();
  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink with C's daemon dead");
  t.deepEqual(unexpectedEgress(frames, w).map(describeFrame), [], 'nothing leaves C but the local subnet');
  t.is(pingReceived(probes.ping), 0, probes.ping.stdout);
  t.not(probes.tcp.code, 0, 'a TCP connect to I fails');
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'), 'the nft kill-switch outlived the daemon');
  const local = await ping(lab, w.c, w.uOnC);
  t.true(pingOk(local), `the local subnet stays reachable with the daemon dead: ${local.stdout}${local.stderr}`);

  // Restart: the config still says internet_via_mesh = true, so routing comes back on via G.
  t.regex(fs.readFileSync(w.C.configPath, 'utf8'), /^internet_via_mesh = true$/m);
  await startDaemon(lab, w.C);
  await waitForPeerState(w.C, w.G, 'active', 15_000);
  await waitUntil('C to route via G again after the restart', 15_000, async () => {
    const s = await status(w.C);
    return s.route_on === true && selectedGateway(s) === w.G.nodeId ? true : undefined;
  });
  const via = await pingThroughCaptures(lab, w);
  t.true(pingOk(via.ping), via.ping.stdout);
  t.deepEqual(requestSources(via.atI, w.iAddr), [w.gAddr], 'after the restart, I sees G again');

  const off = await pimOk(t, w.C, 'route', 'off');
  t.regex(off, /^routing: direct/);
  const direct = await pingThroughCaptures(lab, w);
  t.true(pingOk(direct.ping), direct.ping.stdout);
  t.deepEqual(requestSources(direct.atI, w.iAddr), [w.cAddr], 'after route off, I sees C directly');
  noPimLeftovers(t, 'C after route off', await splitRoutes(lab, w.c), (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, await nftTables(lab, w.c));
  t.regex(fs.readFileSync(w.C.configPath, 'utf8'), /^internet_via_mesh = false$/m, 'route off is persisted');
});

// ── 5. Nothing left behind ─────────────────────────────────────────────────

labTest('route off and a clean stop leave no pim route, rule or nft table; the gateway restores ip_forward', async (t, lab) => {
  const w = await world(lab);
  t.is(w.gForwardBefore, '0', 'a fresh namespace starts with forwarding off');
  await routeOn(t, w);
  // Positive control: the checks below would see pim's state.
  t.not((await splitRoutes(lab, w.c)).trim(), '');
  t.regex((await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, /^7069:/m);

  await pimOk(t, w.C, 'route', 'off');
  const cRules = (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout;
  noPimLeftovers(t, 'C after route off', await splitRoutes(lab, w.c), cRules, await nftTables(lab, w.c));
  // pim0 is still up (the daemon runs): its own connected route aside, all is as before pim.
  const afterOff = await osState(lab, w.c);
  afterOff.mainRoutes = afterOff.mainRoutes.split('\n').filter((l) => !/ dev pim0 /.test(l)).join('\n');
  t.deepEqual(afterOff, w.cBefore, "C's rules, main table and nft ruleset are as before pim");

  // Routing on again, then a clean stop: the stop restores normal routing too.
  await routeOn(t, w);
  w.procC.kill('SIGTERM');
  t.is((await w.procC.waitExit(10_000)).code, 0);
  noPimLeftovers(t, 'C after SIGTERM', await splitRoutes(lab, w.c), (await lab.exec(w.c, 'ip', ['-4', 'rule'])).stdout, await nftTables(lab, w.c));
  t.deepEqual(await osState(lab, w.c), w.cBefore, "C's rules, main table and nft ruleset are as before pim");
  const direct = await ping(lab, w.c, w.iAddr);
  t.true(pingOk(direct), `C reaches I directly after the stop: ${direct.stdout}`);

  // G was a gateway: SIGTERM removes its NAT table and restores forwarding.
  t.is(await readForward(lab, w.g), '1');
  w.procG.kill('SIGTERM');
  t.is((await w.procG.waitExit(10_000)).code, 0);
  t.false((await nftTables(lab, w.g)).includes('pim_gateway'), 'no pim_gateway table in G');
  t.is(await readForward(lab, w.g), w.gForwardBefore, 'ip_forward back to its previous value');
  t.deepEqual(await osState(lab, w.g), w.gBefore, "G's rules, main table and nft ruleset are as before pim");
});

labTest('a gateway SIGKILLed, restarted and stopped cleanly restores the original ip_forward', async (t, lab) => {
  const w = await world(lab);
  t.is(w.gForwardBefore, '0');
  t.is(await readForward(lab, w.g), '1');
  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  t.is(await readForward(lab, w.g), '1', 'a SIGKILL cannot restore anything');
  const again = await startDaemon(lab, w.G);
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'), 'the restarted gateway is on again');
  again.kill('SIGTERM');
  t.is((await again.waitExit(10_000)).code, 0);
  if ((await nftTables(lab, w.g)).includes('pim_gateway')) t.log(fs.readFileSync(`${w.G.dir}/daemon.log`, 'utf8'));
  t.false((await nftTables(lab, w.g)).includes('pim_gateway'), 'no pim_gateway table after the clean stop');
  t.is(await readForward(lab, w.g), w.gForwardBefore, 'ip_forward back to its value from before pim');
});

// ── gateway disable / enable ────────────────────────────────────────────────

labTest('pim gateway disable removes the NAT and the client blocks; gateway enable brings it back', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  const events = await eventsOf(t, w.C, 'status');

  const disabledAt = Date.now();
  t.regex(await pimOk(t, w.G, 'gateway', 'disable'), /^gateway: off/);
  t.false((await nftTables(lab, w.g)).includes('pim_gateway'), 'the NAT table is gone');
  t.is(await readForward(lab, w.g), w.gForwardBefore, 'forwarding back to what it was');
  t.regex(fs.readFileSync(w.G.configPath, 'utf8'), /^enabled = false$/m, 'disable is persisted');

  await waitUntil('C to block after the gateway role was withdrawn', ROLE_GONE_WITHIN_MS, async () =>
    (await status(w.C)).kill_switch === true ? true : undefined,
  );
  const blockMs = Date.now() - disabledAt;
  t.log(`C reported BLOCKING INTERNET ${blockMs} ms after \`pim gateway disable\``);
  t.regex(await pimOk(t, w.C, 'route', 'status'), /^BLOCKING INTERNET/);
  t.true(events.some((e) => e.kind === 'kill_switch' && (e.detail as Json).engaged === true));
  t.deepEqual(((await rpcCall(w.C, 'route.table')) as { gateways: Json[] }).gateways, [], 'C no longer lists G as a gateway');

  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  const probes = await probeInternet(lab, w.c, w.iAddr);
  const frames = await capC.stop();
  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink");
  t.is(pingReceived(probes.ping), 0);

  const enabledAt = Date.now();
  t.regex(await pimOk(t, w.G, 'gateway', 'enable', '--nat-interface', w.gLink.ifB), new RegExp(`^gateway: on, NAT out of ${w.gLink.ifB}`));
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'));
  t.is(await readForward(lab, w.g), '1');
  await waitUntil('C to select G again', ROLE_GONE_WITHIN_MS, async () => {
    const s = await status(w.C);
    return s.kill_switch === false && selectedGateway(s) === w.G.nodeId ? true : undefined;
  });
  t.log(`C routed via G again ${Date.now() - enabledAt} ms after \`pim gateway enable\``);
  const via = await pingThroughCaptures(lab, w);
  t.true(pingOk(via.ping), via.ping.stdout);
  t.deepEqual(requestSources(via.atI, w.iAddr), [w.gAddr]);
  t.true(events.some((e) => e.kind === 'kill_switch' && (e.detail as Json).engaged === false), 'kill_switch {engaged:false} was sent');
  t.true(events.some((e) => e.kind === 'gateway_selected' && (e.detail as Json).node_id === w.G.nodeId));
  const gwConfig = fs.readFileSync(w.G.configPath, 'utf8');
  t.regex(gwConfig, /^enabled = true$/m);
  t.true(gwConfig.includes(`nat_interface = "${w.gLink.ifB}"`));
});

// ── The daemon's nft is whatever PATH finds ─────────────────────────────────

labTest('daemons started with node_modules/.bin first on PATH (as under npm test) still install the real kill-switch and NAT, or refuse', async (t, lab) => {
  t.true(fs.existsSync(path.join(NPM_BIN, 'nft')), `${NPM_BIN}/nft (from @vercel/nft) is there to shadow the system nft`);
  const w = await world(lab, { daemonPath: `${NPM_BIN}:${SYSTEM_PATH}` });
  // G claims to be a gateway; then its NAT table must really exist.
  const gw = JSON.parse(await pimOk(t, w.G, 'gateway', 'status', '--json')) as Json;
  t.is(gw.active, true);
  t.true((await nftTables(lab, w.g)).includes('table ip pim_gateway'), `G reports the gateway active: its NAT table must exist:\n${await nftTables(lab, w.g)}`);

  const on = await pim(w.C, 'route', 'on');
  if (on.code !== 0) {
    // Refusing is acceptable, if it says why.
    t.regex(on.stderr, /nft/);
    return;
  }
  t.true((await nftTables(lab, w.c)).includes('table inet pim_killswitch'), '`pim route on` succeeded: the kill-switch must be in the kernel');
  // What the missing kill-switch means: a SIGKILLed client leaks.
  w.procC.kill('SIGKILL');
  await w.procC.waitExit(5000);
  const capC = await startCapture(lab, w.c, w.cLink.ifB);
  await probeInternet(lab, w.c, w.iAddr);
  const frames = await capC.stop();
  t.deepEqual(toInternet(frames, w.iAddr).map(describeFrame), [], "0 packets to I on C's uplink with C's daemon dead");
});

// ── A stranger offering itself as the gateway ───────────────────────────────

labTest('a TOFU stranger advertising the gateway role is never C\'s gateway: not while G serves, not when G dies, not after C restarts; C blocks', async (t, lab) => {
  const w = await world(lab, { stranger: true });
  const { m, M, mLink } = w.stranger!;
  await routeOn(t, w);
  // M is connected to C (admitted on first use) and has told C it is a gateway.
  await waitUntil("C to count M's ignored gateway role", 15_000, async () =>
    Number((((await status(w.C)).stats as Json).drops as Json).advert_roles_untrusted) > 0 ? true : undefined,
  );
  const candidates = () => rpcCall(w.C, 'route.table').then((r) => (r as { gateways: Json[] }).gateways.map((g) => g.node_id));
  t.deepEqual(await candidates(), [w.G.nodeId], 'only G is a gateway candidate');

  // Whatever reaches M's tunnel from C, and whatever M would send on to I.
  const capM = await startCapture(lab, m, 'pim0');
  const capMUplink = await startCapture(lab, m, mLink.ifB);
  w.procG.kill('SIGKILL');
  await w.procG.waitExit(5000);
  await waitUntil('C to engage the kill-switch', KILL_SWITCH_WITHIN_MS, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  t.is(selectedGateway(await status(w.C)), null, 'no gateway: M was not taken instead');
  await probeInternet(lab, w.c, w.iAddr);

  // C restarts while G is still down; M dials it again.
  w.procC.kill('SIGTERM');
  t.is((await w.procC.waitExit(10_000)).code, 0);
  await startDaemon(lab, w.C);
  await waitForPeerState(w.C, M, 'active', 20_000);
  await waitUntil('C to block after its restart', 15_000, async () => ((await status(w.C)).kill_switch === true ? true : undefined));
  const probes = await probeInternet(lab, w.c, w.iAddr);
  t.is(pingReceived(probes.ping), 0, probes.ping.stdout);
  const s = await status(w.C);
  t.true(s.kill_switch);
  t.is(selectedGateway(s), null);
  t.deepEqual(await candidates(), [], 'M is still no candidate');
  t.regex((await pimOk(t, w.C, 'status')).split('\n')[0]!, /^BLOCKING INTERNET/);

  const [atM, atMUplink] = [await capM.stop(), await capMUplink.stop()];
  t.deepEqual(toInternet(atM, w.iAddr).map(describeFrame), [], "no probe from C toward I reached M's tunnel");
  t.deepEqual(toInternet(atMUplink, w.iAddr).map(describeFrame), [], 'M sent nothing on to I');
});

labTest('a gateway forwards the mesh to the internet only: its own addresses and its LAN are dropped and counted', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  const before = Number((((await status(w.G)).stats as Json).drops as Json).gateway_blocked ?? 0);
  // G's own underlay address and U's address on G's subnet (G's LAN) are
  // outside C's local subnet, so with routing on they go into the tunnel.
  const gHost = await ping(lab, w.c, w.gAddr);
  const gLan = await ping(lab, w.c, w.gLink.addrA);
  const internet = await ping(lab, w.c, w.iAddr);
  t.true(pingOk(internet), `the internet is reachable through G: ${internet.stdout}`);
  t.is(pingReceived(gHost), 0, `G's own address is not reachable from the mesh: ${gHost.stdout}`);
  t.is(pingReceived(gLan), 0, `G's LAN is not reachable from the mesh: ${gLan.stdout}`);
  const after = Number((((await status(w.G)).stats as Json).drops as Json).gateway_blocked);
  t.true(after - before >= 6, `G counted the packets it refused (${after - before})`);
  const ruleset = (await lab.exec(w.g, NFT, ['list', 'table', 'ip', 'pim_gateway'])).stdout;
  t.regex(ruleset, /ip daddr @lan drop/, `nftables holds the line too:\n${ruleset}`);
});

labTest('a gateway whose uplink gains a subnet after enable keeps the mesh out of it too, within seconds', async (t, lab) => {
  const w = await world(lab);
  await routeOn(t, w);
  // G's NAT interface is renumbered into a second subnet, with U on it: a new LAN.
  await lab.exec(w.g, 'ip', ['addr', 'add', '198.18.8.1/24', 'dev', w.gLink.ifB]);
  await lab.exec(w.u, 'ip', ['addr', 'add', '198.18.8.2/24', 'dev', w.gLink.ifA]);
  const direct = await ping(lab, w.g, '198.18.8.2');
  t.true(pingOk(direct), `G reaches the new LAN itself: ${direct.stdout}`);
  await waitUntil("G's nftables guard to cover the new subnet", 15_000, async () =>
    (await lab.exec(w.g, NFT, ['list', 'set', 'ip', 'pim_gateway', 'lan'])).stdout.includes('198.18.8.0/24') ? true : undefined,
  );
  const lan = await ping(lab, w.c, '198.18.8.2');
  t.is(pingReceived(lan), 0, `the new LAN is not reachable from the mesh: ${lan.stdout}`);
  t.true(pingOk(await ping(lab, w.c, w.iAddr)), 'the internet still is');
});
