// `pim status` and `pim peers` human output, rendered from wire-shaped JSON
// (what the daemon sends, docs/RPC.md) — the CLI knows nothing else.

import test from 'ava';
import { peerStateText, renderPeers, renderStatus } from '../ts/cli/render.js';
import { VERSION } from '../ts/version.js';

type Json = Record<string, unknown>;

const MiB = 1024 * 1024;

/** A PeerSummary as `peers.list` sends it, with overrides. */
function peer(overrides: Json = {}): Json {
  return {
    node_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    node_id_short: 'a1b2c3d4',
    label: 'home-gw',
    mesh_ip: '10.77.3.9',
    endpoint: '192.0.2.7:9100',
    transport: 'udp',
    state: 'active',
    path: 'direct',
    route_hops: 1,
    last_handshake_s: 14,
    last_seen_s: 2,
    rx_bytes: 12.3 * MiB,
    tx_bytes: 512,
    latency_ms: 1.234,
    is_gateway: false,
    static: true,
    x25519_pubkey: 'ab'.repeat(32),
    last_error: null,
    ...overrides,
  };
}

/** A `status` result, with overrides. */
function status(overrides: Json = {}): Json {
  return {
    node: 'laptop',
    node_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    node_id_short: 'a1b2c3d4',
    x25519_pubkey: 'cd'.repeat(32),
    mesh_ip: '10.77.0.12',
    interface: { name: 'pim0', up: true, mtu: 1420 },
    role: ['node'],
    transport: { udp: { port: 9100 } },
    trust: { mode: 'tofu' },
    peers: [
      peer({ state: 'active' }),
      peer({ state: 'connecting', node_id_short: 'bbbbbbbb' }),
      peer({ state: 'failed', last_error: 'timeout', node_id_short: 'cccccccc' }),
      peer({ state: 'active', node_id_short: 'dddddddd' }),
    ],
    routes: { active: 2, selected_gateway: null },
    stats: { forwarded_bytes: 0, forwarded_packets: 0, dropped: 0, congestion_drops: 0, drops: {}, rx_bytes: 12 * MiB, rx_packets: 100, tx_bytes: 1024, tx_packets: 2, offloads: { tun: true, udp_gso: true, udp_gro: true } },
    daemon: `pim-daemon/${VERSION}`,
    uptime_s: 3723,
    route_on: false,
    kill_switch: false,
    started_at: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const HEADERS = ['SHORT ID', 'LABEL', 'MESH IP', 'ENDPOINT', 'STATE', 'PATH', 'HANDSHAKE', 'RX', 'TX', 'LATENCY'];

/**
 * Splits a rendered table back into cells using the header's column starts:
 * that only gives the right cells if every row is aligned under its header.
 */
function cellsByHeader(table: string): { header: string; rows: string[][] } {
  const [header, ...rows] = table.split('\n');
  const starts = HEADERS.map((h) => header!.indexOf(h));
  const cut = (line: string): string[] =>
    starts.map((start, i) => line.slice(start, i + 1 < starts.length ? starts[i + 1] : undefined).trimEnd());
  return { header: header!, rows: rows.map(cut) };
}

// ── peerStateText ────────────────────────────────────────────────────────────

const stateCases: Array<[rule: string, p: Json, expected: string]> = [
  ['an active peer shows its state', { state: 'active', last_error: null }, 'active'],
  ['a connecting peer without an error shows its state', { state: 'connecting', last_error: null }, 'connecting'],
  ['a failed peer shows the timeout reason', { state: 'failed', last_error: 'timeout' }, 'failed (timeout)'],
  ['a failed peer shows the untrusted reason', { state: 'failed', last_error: 'untrusted peer ID' }, 'failed (untrusted peer ID)'],
  ['a failed peer shows the rejection reason', { state: 'failed', last_error: 'noise handshake rejected' }, 'failed (noise handshake rejected)'],
  ['a connecting peer with an earlier failure shows it', { state: 'connecting', last_error: 'timeout' }, 'connecting (timeout)'],
  ['a missing last_error is no error', { state: 'relayed' }, 'relayed'],
  ['a missing state is a dash', {}, '-'],
];

for (const [rule, p, expected] of stateCases) {
  test(`peerStateText: ${rule}`, (t) => {
    t.is(peerStateText(p), expected);
  });
}

// ── renderPeers ──────────────────────────────────────────────────────────────

test('renderPeers: no peers prints the hint, not an empty table', (t) => {
  t.is(renderPeers([]), 'no peers yet (add one with `pim peers add`, or let one dial in)');
});

test('renderPeers: the header names every column of `pim peers`, in order', (t) => {
  const header = renderPeers([peer()]).split('\n')[0]!;
  const positions = HEADERS.map((h) => header.indexOf(h));
  t.true(positions.every((p) => p >= 0), header);
  t.deepEqual([...positions].sort((a, b) => a - b), positions);
});

test('renderPeers: one line per peer, no trailing spaces, no final newline', (t) => {
  const out = renderPeers([peer(), peer({ label: null }), peer({ state: 'failed', last_error: 'timeout' })]);
  const lines = out.split('\n');
  t.is(lines.length, 4);
  for (const line of lines) t.is(line, line.trimEnd());
  t.false(out.endsWith('\n'));
});

// Each row is checked cell by cell at the header's column offsets, so a
// misaligned column shows up as a wrong cell.
const rowCases: Array<[rule: string, p: Json, expected: Partial<Record<(typeof HEADERS)[number], string>>]> = [
  [
    'an active direct peer',
    peer(),
    {
      'SHORT ID': 'a1b2c3d4',
      LABEL: 'home-gw',
      'MESH IP': '10.77.3.9',
      ENDPOINT: '192.0.2.7:9100',
      STATE: 'active',
      PATH: 'direct',
      HANDSHAKE: '14s ago',
      RX: '12.3 MiB',
      TX: '512 B',
      LATENCY: '1.2 ms',
    },
  ],
  ['a handshake that never happened is `never`', peer({ state: 'connecting', last_handshake_s: null }), { HANDSHAKE: 'never', STATE: 'connecting' }],
  ['ages use two units', peer({ last_handshake_s: 185 }), { HANDSHAKE: '3m 5s ago' }],
  ['a failed peer shows its reason', peer({ state: 'failed', last_error: 'timeout' }), { STATE: 'failed (timeout)' }],
  ['an untrusted peer shows its reason', peer({ state: 'failed', last_error: 'untrusted peer ID' }), { STATE: 'failed (untrusted peer ID)' }],
  ['a relayed peer shows `via <short id>`', peer({ state: 'relayed', path: 'via 0badcafe' }), { STATE: 'relayed', PATH: 'via 0badcafe' }],
  ['no label is a dash', peer({ label: null }), { LABEL: '-' }],
  ['no endpoint (dialled in) is a dash', peer({ endpoint: null }), { ENDPOINT: '-' }],
  ['no latency measurement is a dash', peer({ latency_ms: null }), { LATENCY: '-' }],
  ['sizes are 1024-based', peer({ rx_bytes: 1536, tx_bytes: 1.5 * 1024 * MiB }), { RX: '1.5 KiB', TX: '1.5 GiB' }],
  ['a label announced with an escape sequence cannot reach the terminal', peer({ label: 'evil\u001b[2Jx' }), { LABEL: 'evil?[2Jx' }],
];

for (const [rule, p, expected] of rowCases) {
  test(`renderPeers: ${rule}`, (t) => {
    // A second, wider row moves every column start, so alignment is exercised.
    const wide = peer({ node_id_short: 'ffffffff', label: 'a-much-longer-label', endpoint: '203.0.113.200:65535', last_handshake_s: 90061 });
    const { rows } = cellsByHeader(renderPeers([p, wide]));
    const row = Object.fromEntries(HEADERS.map((h, i) => [h, rows[0]![i]]));
    for (const [column, value] of Object.entries(expected)) t.is(row[column], value as string, column);
    const other = Object.fromEntries(HEADERS.map((h, i) => [h, rows[1]![i]]));
    t.is(other['LABEL'], 'a-much-longer-label');
    t.is(other['HANDSHAKE'], '1d 1h ago');
  });
}

test('renderPeers: every column starts at the same offset on every line', (t) => {
  const peers = [
    peer(),
    peer({ node_id_short: '01234567', label: 'x', endpoint: null, state: 'failed', last_error: 'noise handshake rejected', last_handshake_s: null }),
    peer({ label: 'a-long-label-here', mesh_ip: '10.77.255.254', rx_bytes: 0, tx_bytes: 3 * 1024 * MiB }),
  ];
  const lines = renderPeers(peers).split('\n');
  const header = lines[0]!;
  const starts = HEADERS.map((h) => header.indexOf(h));
  for (const line of lines.slice(1)) {
    for (const start of starts.slice(1)) {
      // The character just before a column is the gap (a space), and the column starts with text.
      t.is(line[start - 1], ' ', `${JSON.stringify(line)} at ${start}`);
      t.not(line[start], ' ', `${JSON.stringify(line)} at ${start}`);
    }
  }
});

// ── renderStatus ─────────────────────────────────────────────────────────────

test('renderStatus: kill-switch engaged → the first line says BLOCKING INTERNET and why', (t) => {
  const first = renderStatus(status({ route_on: true, kill_switch: true })).split('\n')[0]!;
  t.true(first.startsWith('BLOCKING INTERNET'), first);
  t.regex(first, /gateway/);
});

const notBlocking: Array<[rule: string, s: Json]> = [
  ['kill_switch false', status({ kill_switch: false })],
  ['kill_switch false with routing on', status({ kill_switch: false, route_on: true })],
  ['kill_switch missing', status({ kill_switch: undefined })],
  ['kill_switch a truthy non-boolean', status({ kill_switch: 'yes' })],
];
for (const [rule, s] of notBlocking) {
  test(`renderStatus: no BLOCKING INTERNET line when ${rule}`, (t) => {
    const out = renderStatus(s);
    t.false(out.includes('BLOCKING INTERNET'));
    t.true(out.startsWith('pim node laptop (a1b2c3d4)'), out);
  });
}

/** The `key  value` rows of `pim status`, keyed by their label. */
function statusRows(out: string): Map<string, string> {
  const rows = out.split('\n').filter((l) => l.startsWith('  '));
  return new Map(rows.map((l) => [l.trim().split(/\s{2,}/)[0]!, l.trim().split(/\s{2,}/).slice(1).join('  ')]));
}

const statusCases: Array<[rule: string, s: Json, key: string, expected: string]> = [
  ['shows the full node_id', status(), 'node_id', 'a1b2c3d4e5f60718293a4b5c6d7e8f90'],
  ['shows the public key', status(), 'public key', 'cd'.repeat(32)],
  ['shows the mesh IP', status(), 'mesh IP', '10.77.0.12'],
  ['shows interface name, state and mtu', status(), 'interface', 'pim0 (up, mtu 1420)'],
  ['shows a down interface', status({ interface: { name: 'pim0', up: false, mtu: 1280 } }), 'interface', 'pim0 (down, mtu 1280)'],
  ['shows the UDP port', status(), 'UDP port', '9100'],
  ['shows the trust mode', status({ trust: { mode: 'allow_list' } }), 'trust mode', 'allow_list'],
  ['shows the roles', status({ role: ['node', 'gateway'] }), 'role', 'node, gateway'],
  ['routing off is mesh only', status(), 'routing', 'direct (mesh only)'],
  ['routing on is internet via mesh', status({ route_on: true }), 'routing', 'internet via mesh'],
  ['counts peers by state', status(), 'peers', '2 active, 1 connecting, 1 failed'],
  ['no peers counts zero', status({ peers: [] }), 'peers', '0 active, 0 connecting, 0 failed'],
  ['shows the uptime', status(), 'uptime', '1h 2m 3s'],
  ['a missing field is a dash', status({ mesh_ip: null }), 'mesh IP', '-'],
  ['shows the daemon version', status(), 'daemon', `pim-daemon ${VERSION}`],
  ['a daemon of another version says so', status({ daemon: 'pim-daemon/9.9.9' }), 'daemon', `pim-daemon 9.9.9 (this pim is ${VERSION})`],
  ['shows the traffic totals', status(), 'traffic', 'rx 12.0 MiB (100 packets), tx 1.0 KiB (2 packets)'],
  [
    'shows what it relayed for others',
    status({ stats: { rx_bytes: 0, rx_packets: 0, tx_bytes: 0, tx_packets: 0, forwarded_packets: 3, forwarded_bytes: 4096, dropped: 0 } }),
    'traffic',
    'rx 0 B (0 packets), tx 0 B (0 packets); relayed for others 4.0 KiB',
  ],
  ['no drops is none', status(), 'dropped', 'none'],
  [
    'drops: the total and the three commonest reasons',
    status({ stats: { dropped: 18, drops: { replay: 10, queue_full: 5, bad_mac: 2, no_route: 1, untrusted: 0 } } }),
    'dropped',
    '18 packets (replay 10, queue_full 5, bad_mac 2)',
  ],
  ['all offloads on', status(), 'offloads', 'on (TUN TSO/GRO, UDP GSO, UDP GRO)'],
  [
    'all offloads off',
    status({ stats: { offloads: { tun: false, udp_gso: false, udp_gro: false } } }),
    'offloads',
    'off (a packet at a time: PIM_OFFLOAD=off, or the kernel refused)',
  ],
  [
    'offloads the kernel refused',
    status({ stats: { offloads: { tun: true, udp_gso: false, udp_gro: true } } }),
    'offloads',
    'TUN TSO/GRO, UDP GRO on; UDP GSO off (the kernel refused)',
  ],
  ['offloads from an older daemon are a dash', status({ stats: {} }), 'offloads', '-'],
];

for (const [rule, s, key, expected] of statusCases) {
  test(`renderStatus: ${rule}`, (t) => {
    t.is(statusRows(renderStatus(s)).get(key), expected);
  });
}

test('renderStatus: values start in one column', (t) => {
  for (const s of [status(), status({ kill_switch: true, route_on: true })]) {
    const rows = renderStatus(s).split('\n').filter((l) => l.startsWith('  '));
    t.is(rows.length, 14);
    // "  <key><padding>  <value>": the value starts after the first run of two or more spaces.
    const valueStarts = new Set(rows.map((l) => /^ {2}\S.*?\s{2,}/.exec(l)![0].length));
    t.is(valueStarts.size, 1, rows.join('\n'));
  }
});

test('renderStatus: the header names the node and its short id', (t) => {
  const lines = renderStatus(status({ kill_switch: true })).split('\n');
  t.is(lines[1], 'pim node laptop (a1b2c3d4)');
});
