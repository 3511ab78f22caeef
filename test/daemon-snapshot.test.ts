// What the control plane hands the data plane: own mesh address, static peers
// (expected mesh IPs, endpoints, persistence), trust policy and TOFU pins;
// plus which config changes a reload can apply and which need a restart.

import test from 'ava';
import { changedPaths, requiringRestart } from '../ts/config/diff.js';
import type { PathEnv } from '../ts/config/paths.js';
import { buildDefaults, type Config, type PeerConfig, type TrustMode } from '../ts/config/schema.js';
import { compileSnapshot, meshAddressing } from '../ts/daemon/snapshot.js';
import type { Identity } from '../ts/identity/identity.js';
import { meshIpTextFor } from '../ts/identity/mesh-ip.js';
import { parseCidr } from '../ts/net/ipv4.js';
import { newIdentity, nodeIdOf } from './helpers/keys.js';

const PE: PathEnv = { uid: 1000, env: {}, homedir: '/home/test' };

function config(overrides: { interface?: Partial<Config['interface']>; trust?: Partial<Config['trust']>; peers?: PeerConfig[] } = {}): Config {
  const d = buildDefaults(PE, 'box');
  return {
    ...d,
    interface: { ...d.interface, ...overrides.interface },
    trust: { ...d.trust, ...overrides.trust },
    peers: overrides.peers ?? [],
  };
}

const derivedIp = (publicKeyHex: string, prefix: string): string => meshIpTextFor(nodeIdOf(publicKeyHex), parseCidr(prefix)!);

const staticPeer = (id: Identity, label: string | null, address = '192.0.2.7:9100'): PeerConfig => ({ address, public_key: id.publicKeyHex, label });

// ── meshAddressing ───────────────────────────────────────────────────────────

test('meshAddressing: without an override the mesh IP is derived from node_id inside the prefix', (t) => {
  const me = newIdentity();
  const a = meshAddressing(config(), me);
  t.deepEqual(a, { meshIp: meshIpTextFor(me.nodeId, parseCidr('10.77.0.0/16')!), meshPrefix: '10.77.0.0/16', prefixLen: 16 });
  t.true(a.meshIp.startsWith('10.77.'));
});

const prefixCases: Array<[prefix: string, len: number]> = [
  ['10.77.0.0/16', 16],
  ['172.16.0.0/12', 12],
  ['192.168.50.0/24', 24],
  ['100.64.0.8/29', 29],
];
for (const [prefix, len] of prefixCases) {
  test(`meshAddressing: the derived mesh IP lies inside ${prefix} and is neither network nor broadcast`, (t) => {
    const me = newIdentity();
    const a = meshAddressing(config({ interface: { mesh_ipv4_prefix: prefix } }), me);
    t.is(a.meshPrefix, prefix);
    t.is(a.prefixLen, len);
    const p = parseCidr(prefix)!;
    const ip = parseCidr(`${a.meshIp}/32`)!.address;
    const size = 2 ** (32 - len);
    t.true(ip > p.network && ip < p.network + size - 1, a.meshIp);
  });
}

test('meshAddressing: interface.address overrides the derived mesh IP, keeping the prefix', (t) => {
  const a = meshAddressing(config({ interface: { address: '10.77.3.9/16' } }), newIdentity());
  t.deepEqual(a, { meshIp: '10.77.3.9', meshPrefix: '10.77.0.0/16', prefixLen: 16 });
});

// ── compileSnapshot: static peers ────────────────────────────────────────────

test('compileSnapshot: static peers get the mesh IP derived from their node_id, persistent, with their resolved endpoints', (t) => {
  const me = newIdentity();
  const [a, b, c] = [newIdentity(), newIdentity(), newIdentity()];
  const cfg = config({
    peers: [staticPeer(a, 'alpha', '192.0.2.7:9100'), staticPeer(b, 'beta', 'gw.example.net:9100'), staticPeer(c, null, 'unresolvable.invalid:9100')],
  });
  const addressing = meshAddressing(cfg, me);
  const endpoints = new Map([
    [a.publicKeyHex, '192.0.2.7:9100'],
    [b.publicKeyHex, '198.51.100.4:9100'],
  ]);
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me, addressing, endpoints, version: 7 });
  t.deepEqual(problems, []);
  t.is(snapshot.version, 7);
  t.is(snapshot.meshIp, addressing.meshIp);
  t.is(snapshot.meshPrefix, '10.77.0.0/16');
  t.deepEqual(snapshot.peers, [
    { publicKey: a.publicKeyHex, meshIp: derivedIp(a.publicKeyHex, '10.77.0.0/16'), endpoint: '192.0.2.7:9100', persistent: true },
    { publicKey: b.publicKeyHex, meshIp: derivedIp(b.publicKeyHex, '10.77.0.0/16'), endpoint: '198.51.100.4:9100', persistent: true },
    { publicKey: c.publicKeyHex, meshIp: derivedIp(c.publicKeyHex, '10.77.0.0/16'), persistent: true },
  ]);
  // A peer without an endpoint waits to be dialled: no endpoint key at all, not `undefined`.
  t.false('endpoint' in snapshot.peers[2]!);
});

test('compileSnapshot: peer mesh IPs follow the configured prefix, not our override address', (t) => {
  const me = newIdentity();
  const a = newIdentity();
  const cfg = config({ interface: { mesh_ipv4_prefix: '172.20.0.0/16', address: '172.20.9.9/16' }, peers: [staticPeer(a, 'alpha')] });
  const { snapshot } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints: new Map(), version: 1 });
  t.is(snapshot.meshIp, '172.20.9.9');
  t.is(snapshot.peers[0]!.meshIp, derivedIp(a.publicKeyHex, '172.20.0.0/16'));
});

test('compileSnapshot: no static peers gives an empty peer list and no pins', (t) => {
  const me = newIdentity();
  const cfg = config();
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints: new Map(), version: 1 });
  t.deepEqual(snapshot.peers, []);
  t.deepEqual(snapshot.pins, []);
  t.deepEqual(problems, []);
});

// ── compileSnapshot: trust ───────────────────────────────────────────────────

const trustCases: Array<[mode: TrustMode, pinned: boolean]> = [
  ['tofu', true],
  ['allow_list', false],
  ['allow_all', false],
];
for (const [mode, pinned] of trustCases) {
  test(`compileSnapshot: trust mode ${mode} ${pinned ? 'pins each endpointed static peer to its node_id' : 'has no TOFU pins'}`, (t) => {
    const me = newIdentity();
    const [a, b] = [newIdentity(), newIdentity()];
    const cfg = config({ trust: { mode }, peers: [staticPeer(a, 'alpha'), staticPeer(b, 'beta', 'b.example.net:9100')] });
    const endpoints = new Map([[a.publicKeyHex, '192.0.2.7:9100']]);
    const { snapshot } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints, version: 1 });
    t.is(snapshot.trustMode, mode);
    // Only a peer with a known endpoint can be pinned by address.
    t.deepEqual(snapshot.pins, pinned ? [{ ip: '192.0.2.7', nodeId: a.nodeId }] : []);
  });
}

test('compileSnapshot: the allow_list is passed through as a copy, in explicit', (t) => {
  const me = newIdentity();
  const allow = [newIdentity().nodeId, newIdentity().nodeId];
  const cfg = config({ trust: { mode: 'allow_list', allow_list: allow } });
  const { snapshot } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints: new Map(), version: 1 });
  t.deepEqual(snapshot.explicit, allow);
  t.not(snapshot.explicit, cfg.trust.allow_list);
  snapshot.explicit.push('x');
  t.is(cfg.trust.allow_list.length, 2);
});

test('compileSnapshot: configured peers are explicit', (t) => {
  const me = newIdentity();
  const a = newIdentity();
  const cfg = config({ peers: [staticPeer(a, 'alpha')] });
  const { snapshot } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints: new Map(), version: 1 });
  t.deepEqual(snapshot.explicit, [a.nodeId]);
});

// ── compileSnapshot: problems ────────────────────────────────────────────────

test('compileSnapshot: a static peer with our own public key is skipped with a problem', (t) => {
  const me = newIdentity();
  const other = newIdentity();
  const cfg = config({ peers: [staticPeer(me, 'myself', '192.0.2.1:9100'), staticPeer(other, 'other')] });
  const endpoints = new Map([
    [me.publicKeyHex, '192.0.2.1:9100'],
    [other.publicKeyHex, '192.0.2.7:9100'],
  ]);
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me, addressing: meshAddressing(cfg, me), endpoints, version: 1 });
  t.deepEqual(
    snapshot.peers.map((p) => p.publicKey),
    [other.publicKeyHex],
  );
  t.is(problems.length, 1);
  t.is(problems[0]!.publicKey, me.publicKeyHex);
  t.regex(problems[0]!.message, /own public key/);
  t.false(snapshot.pins.some((p) => p.nodeId === me.nodeId), 'no TOFU pin for ourselves either');
});

/** Generates identities until `accept` is satisfied: the derived-IP space of a /29 has six addresses. */
function findKeys(prefix: string, count: number, accept: (ips: string[]) => boolean): Identity[] {
  for (let tries = 0; tries < 10_000; tries++) {
    const ids = Array.from({ length: count }, newIdentity);
    if (accept(ids.map((id) => derivedIp(id.publicKeyHex, prefix)))) return ids;
  }
  throw new Error('no matching keys found');
}

test('compileSnapshot: two static peers deriving the same mesh IP → the second is left out with a problem', (t) => {
  const prefix = '10.99.0.0/29';
  const [me, a, b] = findKeys(prefix, 3, ([mine, x, y]) => x === y && x !== mine);
  const cfg = config({ interface: { mesh_ipv4_prefix: prefix }, peers: [staticPeer(a!, 'alpha', '192.0.2.7:9100'), staticPeer(b!, 'beta', '192.0.2.8:9100')] });
  const endpoints = new Map([
    [a!.publicKeyHex, '192.0.2.7:9100'],
    [b!.publicKeyHex, '192.0.2.8:9100'],
  ]);
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me!, addressing: meshAddressing(cfg, me!), endpoints, version: 1 });
  const ip = derivedIp(a!.publicKeyHex, prefix);
  t.deepEqual(snapshot.peers, [{ publicKey: a!.publicKeyHex, meshIp: ip, endpoint: '192.0.2.7:9100', persistent: true }]);
  t.deepEqual(snapshot.pins, [{ ip: '192.0.2.7', nodeId: a!.nodeId }], 'the left-out peer is not pinned');
  t.is(problems.length, 1);
  t.is(problems[0]!.publicKey, b!.publicKeyHex);
  t.regex(problems[0]!.message, /mesh IP collision/);
  t.true(problems[0]!.message.includes(ip), problems[0]!.message);
  t.true(problems[0]!.message.includes('alpha'), 'names the peer that holds the address');
});

test('compileSnapshot: a collision names the first peer by short id when it has no label', (t) => {
  const prefix = '10.99.0.0/29';
  const [me, a, b] = findKeys(prefix, 3, ([mine, x, y]) => x === y && x !== mine);
  const cfg = config({ interface: { mesh_ipv4_prefix: prefix }, peers: [staticPeer(a!, null), staticPeer(b!, 'beta')] });
  const { problems } = compileSnapshot({ config: cfg, identity: me!, addressing: meshAddressing(cfg, me!), endpoints: new Map(), version: 1 });
  t.is(problems.length, 1);
  t.true(problems[0]!.message.includes(a!.shortId), problems[0]!.message);
});

test('compileSnapshot: a static peer deriving our own mesh IP is left out with a problem', (t) => {
  const prefix = '10.99.0.0/29';
  const [me, a, b] = findKeys(prefix, 3, ([mine, x, y]) => x === mine && y !== mine);
  const cfg = config({ interface: { mesh_ipv4_prefix: prefix }, peers: [staticPeer(a!, 'alpha'), staticPeer(b!, 'beta')] });
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me!, addressing: meshAddressing(cfg, me!), endpoints: new Map(), version: 1 });
  t.deepEqual(
    snapshot.peers.map((p) => p.publicKey),
    [b!.publicKeyHex],
  );
  t.is(problems.length, 1);
  t.is(problems[0]!.publicKey, a!.publicKeyHex);
  t.regex(problems[0]!.message, /this node/);
});

test('compileSnapshot: a static peer deriving our override address is left out with a problem', (t) => {
  const prefix = '10.99.0.0/29';
  const [me, a] = findKeys(prefix, 2, ([, x]) => x === '10.99.0.3');
  const cfg = config({ interface: { mesh_ipv4_prefix: prefix, address: '10.99.0.3/29' }, peers: [staticPeer(a!, 'alpha')] });
  const { snapshot, problems } = compileSnapshot({ config: cfg, identity: me!, addressing: meshAddressing(cfg, me!), endpoints: new Map(), version: 1 });
  t.deepEqual(snapshot.peers, []);
  t.is(problems.length, 1);
  t.regex(problems[0]!.message, /10\.99\.0\.3/);
});

// ── config/diff.ts ───────────────────────────────────────────────────────────

type Edit = (c: Config) => void;
const diffCases: Array<[rule: string, edit: Edit, changed: string[], restart: string[]]> = [
  ['nothing changed', () => {}, [], []],
  ['the node name applies live', (c) => (c.node.name = 'other'), ['node.name'], []],
  ['the log level applies live', (c) => (c.log.level = 'debug'), ['log.level'], []],
  ['the trust mode applies live', (c) => (c.trust.mode = 'allow_all'), ['trust.mode'], []],
  ['the allow_list compares whole and applies live', (c) => c.trust.allow_list.push('0'.repeat(32)), ['trust.allow_list'], []],
  ['static peers compare whole and apply live', (c) => c.peers.push({ address: '192.0.2.7:9100', public_key: 'a'.repeat(64), label: null }), ['peers'], []],
  ['the mtu needs a restart', (c) => (c.interface.mtu = 1280), ['interface.mtu'], ['interface.mtu']],
  ['the interface address needs a restart', (c) => (c.interface.address = '10.77.3.9/16'), ['interface.address'], ['interface.address']],
  ['the key file needs a restart', (c) => (c.security.key_file = '/elsewhere/node.key'), ['security.key_file'], ['security.key_file']],
  ['the UDP port needs a restart', (c) => (c.transport.listen_port = 0), ['transport.listen_port'], ['transport.listen_port']],
  ['the control socket needs a restart', (c) => (c.rpc.socket = '/tmp/x.sock'), ['rpc.socket'], ['rpc.socket']],
  ['discovery needs a restart', (c) => (c.discovery.enabled = false), ['discovery.enabled'], ['discovery.enabled']],
  ['the gateway role applies live', (c) => (c.gateway.enabled = true), ['gateway.enabled'], []],
  ['routing via the mesh applies live', (c) => (c.route.internet_via_mesh = true), ['route.internet_via_mesh'], []],
  [
    'several changes are listed in config order, only the restart ones in the second list',
    (c) => {
      c.log.level = 'warn';
      c.rpc.socket = '/tmp/y.sock';
      c.node.name = 'n';
      c.interface.mtu = 1300;
      c.peers.push({ address: '192.0.2.9:1', public_key: 'b'.repeat(64), label: 'x' });
    },
    ['node.name', 'interface.mtu', 'peers', 'rpc.socket', 'log.level'],
    ['interface.mtu', 'rpc.socket'],
  ],
];

for (const [rule, edit, changed, restart] of diffCases) {
  test(`changedPaths/requiringRestart: ${rule}`, (t) => {
    const a = buildDefaults(PE, 'box');
    const b = structuredClone(a);
    edit(b);
    const paths = changedPaths(a, b);
    t.deepEqual(paths, changed);
    t.deepEqual(requiringRestart(paths), restart);
    t.deepEqual(changedPaths(b, a), changed, 'symmetric');
  });
}

test('changedPaths: equal peer lists in distinct arrays are unchanged', (t) => {
  const peer = { address: '192.0.2.7:9100', public_key: 'a'.repeat(64), label: 'p' };
  const a = { ...buildDefaults(PE, 'box'), peers: [peer] };
  const b = { ...buildDefaults(PE, 'box'), peers: [{ ...peer }] };
  t.deepEqual(changedPaths(a, b), []);
});

const restartCases: Array<[paths: string[], expected: string[]]> = [
  [[], []],
  [['peers', 'log.level', 'node.name', 'trust.mode'], []],
  [['interface.name', 'peers', 'route.internet_via_mesh'], ['interface.name']],
  // A section name alone is not a path inside it.
  [['interface', 'security'], []],
];
for (const [paths, expected] of restartCases) {
  test(`requiringRestart(${JSON.stringify(paths)}) → ${JSON.stringify(expected)}`, (t) => {
    t.deepEqual(requiringRestart(paths), expected);
  });
}
