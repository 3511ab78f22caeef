// Human output of `pim status` and `pim peers`, from the wire JSON the
// daemon sends (the CLI knows nothing else of the daemon).

import { VERSION } from '../version.js';
import { formatAge, formatBytes, formatDuration, formatLatency, renderTable } from './format.js';

type Json = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const ageOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export function peerStateText(p: Json): string {
  return p.last_error ? `${str(p.state)} (${str(p.last_error)})` : str(p.state);
}

export function renderPeers(peers: readonly Json[]): string {
  if (peers.length === 0) return 'no peers yet (add one with `pim peers add`, or let one dial in)';
  const rows = peers.map((p) => [
    str(p.node_id_short),
    str(p.label),
    str(p.mesh_ip),
    str(p.endpoint),
    peerStateText(p),
    p.path === 'direct' ? 'direct' : str(p.path),
    formatAge(ageOrNull(p.last_handshake_s)),
    formatBytes(num(p.rx_bytes)),
    formatBytes(num(p.tx_bytes)),
    formatLatency(typeof p.latency_ms === 'number' ? p.latency_ms : null),
  ]);
  const table = renderTable(['SHORT ID', 'LABEL', 'MESH IP', 'ENDPOINT', 'STATE', 'PATH', 'HANDSHAKE', 'RX', 'TX', 'LATENCY'], rows);
  // A refused peer's row says why; the daemon says what to do about it. A discovered node waits for pairing.
  const hints = peers.filter((p) => typeof p.hint === 'string' && p.hint !== '').map((p) => `${str(p.node_id_short)}: ${String(p.hint)}`);
  const discovered = peers.find((p) => p.state === 'discovered');
  if (discovered !== undefined) hints.push(`discovered on the LAN, not paired: trust one with \`pim peers pair ${str(discovered.node_id_short)}\``);
  return hints.length === 0 ? table : `${table}\n\n${hints.join('\n')}`;
}

export function renderStatus(s: Json): string {
  const iface = (s.interface ?? {}) as Json;
  const udp = (((s.transport ?? {}) as Json).udp ?? {}) as Json;
  const peers = (s.peers ?? []) as Json[];
  const count = (state: string): number => peers.filter((p) => p.state === state).length;
  const lines: string[] = [];
  if (s.kill_switch === true) {
    lines.push('BLOCKING INTERNET: routing via the mesh is on and no gateway is reachable (`pim route off` restores normal routing)');
  }
  lines.push(`pim node ${str(s.node)} (${str(s.node_id_short)})`);
  const rows: [string, string][] = [
    ['node_id', str(s.node_id)],
    ['public key', str(s.x25519_pubkey)],
    ['mesh IP', str(s.mesh_ip)],
    ['interface', `${str(iface.name)} (${iface.up === true ? 'up' : 'down'}, mtu ${str(iface.mtu)})`],
    ['UDP port', str(udp.port)],
    ['trust mode', str(((s.trust ?? {}) as Json).mode)],
    ['role', Array.isArray(s.role) ? s.role.join(', ') : '-'],
    ['routing', `${s.route_on === true ? 'internet via mesh' : 'direct (mesh only)'}${s.lockdown === true ? ', lockdown' : ''}`],
    ['peers', `${count('active')} active, ${count('connecting')} connecting, ${count('failed')} failed`],
    ['daemon', daemonVersion(s.daemon)],
    ['uptime', formatDuration(num(s.uptime_s))],
    ['traffic', traffic((s.stats ?? {}) as Json)],
    ['dropped', drops((s.stats ?? {}) as Json)],
    ['offloads', offloads((s.stats ?? {}) as Json)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  return lines.join('\n');
}

/** "pim-daemon/0.1.0" (rpc.hello) → "pim-daemon 0.1.0", and this CLI's version when it differs. */
function daemonVersion(daemon: unknown): string {
  if (typeof daemon !== 'string') return '-';
  const [name, version] = daemon.split('/');
  return version === undefined || version === VERSION ? `${name} ${version ?? ''}`.trimEnd() : `${name} ${version} (this pim is ${VERSION})`;
}

function traffic(stats: Json): string {
  const side = (dir: 'rx' | 'tx'): string => `${dir} ${formatBytes(num(stats[`${dir}_bytes`]))} (${num(stats[`${dir}_packets`])} packets)`;
  const relayed = num(stats.forwarded_packets) > 0 ? `; relayed for others ${formatBytes(num(stats.forwarded_bytes))}` : '';
  return `${side('rx')}, ${side('tx')}${relayed}`;
}

/** Which offloads are in use. PIM_OFFLOAD=off turns all three off; only the kernel turns off some. */
function offloads(stats: Json): string {
  const o = stats.offloads as Json | undefined;
  if (o === undefined || o === null) return '-';
  const parts: [string, unknown][] = [['TUN TSO/GRO', o.tun], ['UDP GSO', o.udp_gso], ['UDP GRO', o.udp_gro]];
  const on = parts.filter(([, v]) => v === true).map(([name]) => name);
  const off = parts.filter(([, v]) => v !== true).map(([name]) => name);
  if (off.length === 0) return `on (${on.join(', ')})`;
  if (on.length === 0) return 'off (a packet at a time: PIM_OFFLOAD=off, or the kernel refused)';
  return `${on.join(', ')} on; ${off.join(', ')} off (the kernel refused)`;
}

/** The total, then the three commonest reasons. */
function drops(stats: Json): string {
  const total = num(stats.dropped);
  if (total === 0) return 'none';
  const reasons = Object.entries((stats.drops ?? {}) as Record<string, unknown>)
    .map(([reason, n]) => [reason, num(n)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([reason, n]) => `${reason} ${n}`);
  return `${total} packet${total === 1 ? '' : 's'}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`;
}

/** The routing state, then the lockdown line when [route] lockdown is on. */
export function renderRoute(status: Json, table: Json): string {
  const state = routeState(status, table);
  if (status.lockdown !== true) return state;
  return `${state}\nlockdown: on (internet stays blocked while pim is stopped, too; only \`pim route off\` lifts it)`;
}

function routeState(status: Json, table: Json): string {
  const gateways = (table.gateways ?? []) as Json[];
  if (status.kill_switch === true) {
    return 'BLOCKING INTERNET: routing via the mesh is on and no gateway is reachable (`pim route off` restores normal routing)';
  }
  if (status.route_on !== true) return 'routing: direct (internet traffic does not use the mesh)';
  const selected = gateways.find((g) => g.selected === true);
  const hops = typeof selected?.hops === 'number' ? `, ${selected.hops} hop${selected.hops === 1 ? '' : 's'}` : '';
  const latency = typeof selected?.latency_ms === 'number' ? `, ${selected.latency_ms} ms` : '';
  const known = `${gateways.length} gateway${gateways.length === 1 ? '' : 's'} known`;
  return `routing: internet via gateway ${String(selected?.node_id ?? (status.routes as Json | undefined)?.selected_gateway)}${hops}${latency} (${known})`;
}
