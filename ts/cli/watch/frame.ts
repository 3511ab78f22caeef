// One screen of `pim watch`: the BLOCKING INTERNET banner (red) when the
// kill-switch is engaged, this node, routing and the gateway role, the peers
// with state, path, latency and traffic rates, and the latest events, cut to
// the terminal's size.

import { formatBytes, formatDuration, formatLatency, renderTable, sanitizeForTerminal } from '../format.js';
import { peerStateText, renderRoute } from '../render.js';
import type { WatchModel } from './model.js';

type Json = Record<string, unknown>;

export interface FrameOptions {
  width: number;
  height: number;
  colour: boolean;
}

const str = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

const BANNER = 'BLOCKING INTERNET: routing via the mesh is on and no gateway is reachable (`pim route off` restores normal routing)';

function rate(bytesPerS: number | undefined): string {
  return bytesPerS === undefined ? '-' : `${formatBytes(bytesPerS)}/s`;
}

function gatewayLine(g: Json | undefined): string {
  if (g === undefined) return 'gateway role: -';
  if (g.active !== true) return 'gateway role: off';
  return `gateway role: on, NAT out of ${str(g.nat_interface)}, ${num(g.peers_through_me)} peer(s) using it`;
}

export function renderFrame(model: WatchModel, opts: FrameOptions): string[] {
  const s = model.status;
  if (s === undefined) return ['pim watch: waiting for the daemon…'];
  const lines: string[] = [];
  const banner = BANNER.slice(0, opts.width);
  if (s.kill_switch === true) lines.push(opts.colour ? `\x1b[1;37;41m${banner}\x1b[0m` : banner);
  lines.push(`pim watch: node ${sanitizeForTerminal(str(s.node))} (${str(s.node_id_short)}), ${str(s.mesh_ip)}, up ${formatDuration(num(s.uptime_s))}    q quits`);
  if (s.kill_switch !== true) lines.push(...renderRoute(s, model.routeTable ?? {}).split('\n'));
  lines.push(gatewayLine(model.gateway), '');
  const peers = (s.peers ?? []) as Json[];
  if (peers.length === 0) {
    lines.push('no peers yet');
  } else {
    const rows = peers.map((p) => {
      const r = model.rates.get(String(p.node_id));
      return [str(p.node_id_short), str(p.label), str(p.mesh_ip), peerStateText(p), str(p.path), formatLatency(typeof p.latency_ms === 'number' ? p.latency_ms : null), rate(r?.rxPerS), rate(r?.txPerS), formatBytes(num(p.rx_bytes)), formatBytes(num(p.tx_bytes))];
    });
    lines.push(...renderTable(['SHORT ID', 'LABEL', 'MESH IP', 'STATE', 'PATH', 'LATENCY', 'RX/s', 'TX/s', 'RX', 'TX'], rows).split('\n'));
  }
  lines.push('', 'RECENT EVENTS');
  const room = Math.max(1, opts.height - lines.length);
  const events = model.events.slice(0, room).map((e) => `${e.at.slice(11, 19)}  ${e.text}`);
  lines.push(...(events.length > 0 ? events : ['(none since pim watch started)']));
  // Escape sequences take no columns; everything else is cut to the width.
  return lines.slice(0, opts.height).map((l) => (l.includes('\x1b[') ? l : l.slice(0, opts.width)));
}
