// The workloads: iperf3 clients in A against the server in B, and ping. Each
// returns parsed numbers; the raw JSON stays out of the results to keep them
// small, except what the report needs. Clients run as Lab processes, so an
// interrupted benchmark stops them with everything else.

import type { Node } from '../lab/netns.js';
import type { Probe } from './search.js';
import type { IperfServer, Topology } from './topology.js';

export const UDP_PAYLOAD = 1372;
/**
 * iperf3 -w for UDP, on both ends. With the default 208 KiB receive buffer
 * iperf3's own bursts overflow the socket (over 20 % loss at 300 Mbit/s on the
 * bare veth), so the search would measure iperf3 rather than the path.
 */
export const UDP_SOCKET_BUFFER = '4M';

export interface TcpResult {
  /** Receiver-side throughput, bit/s. */
  bps: number;
  /** Bytes the receiver got. */
  bytes: number;
  seconds: number;
  retransmits: number | null;
}

export interface TcpOptions {
  seconds: number;
  streams: number;
  /** -R: B sends to A. */
  reverse: boolean;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parses iperf3 -J output; throws with iperf3's own error text when it reports one. */
export function parseIperfJson(text: string): Json {
  let parsed: unknown;
  try {
    // stdout and stderr arrive interleaved: the document runs from the first '{' to the last '}'.
    parsed = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
  } catch {
    throw new Error(`iperf3 printed no JSON: ${text.trim().slice(0, 300) || '(nothing)'}`);
  }
  const doc = obj(parsed);
  if (!doc) throw new Error('iperf3 JSON is not an object');
  if (typeof doc.error === 'string') throw new Error(`iperf3: ${doc.error}`);
  return doc;
}

export function parseTcp(doc: Json): TcpResult {
  const end = obj(doc.end);
  const received = obj(end?.sum_received);
  const sent = obj(end?.sum_sent);
  const bps = num(received?.bits_per_second);
  const bytes = num(received?.bytes);
  const seconds = num(received?.seconds);
  if (bps === undefined || bytes === undefined || seconds === undefined) throw new Error('iperf3 TCP JSON lacks end.sum_received');
  return { bps, bytes, seconds, retransmits: num(sent?.retransmits) ?? null };
}

export function parseUdp(doc: Json, rateBps: number): Probe {
  const end = obj(doc.end);
  const sum = obj(end?.sum_received) ?? obj(end?.sum);
  const packets = num(sum?.packets);
  const lost = num(sum?.lost_packets);
  const seconds = num(sum?.seconds);
  if (packets === undefined || lost === undefined || !seconds) throw new Error('iperf3 UDP JSON lacks end.sum_received packets');
  // No packet sent counts as total loss, not as a perfect run.
  const lossPercent = packets > 0 ? (100 * lost) / packets : 100;
  return { rateBps, lossPercent, deliveredPps: Math.max(0, packets - lost) / seconds };
}

/** Runs a command in a node as a Lab process and waits for it; killed after `timeoutMs`. */
async function runIn(topo: Topology, node: Node, cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const proc = topo.lab.spawn(node, cmd, args);
  try {
    const status = await proc.waitExit(timeoutMs);
    return { code: status.code, output: proc.output() };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
}

/**
 * Runs one iperf3 client in A. A failure restarts the server and tries once
 * more, since a client killed mid-test can leave the server busy; a second
 * failure is the system's.
 */
async function client(topo: Topology, args: string[], seconds: number, server: IperfServer = topo.iperf): Promise<Json> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const r = await runIn(topo, topo.a, 'iperf3', ['--connect-timeout', '5000', '-J', ...args], (seconds + 20) * 1000);
      return parseIperfJson(r.output);
    } catch (err) {
      lastError = err as Error;
      await server.restart();
    }
  }
  throw lastError as Error;
}

/** A TCP test from A to `target`, served by B's iperf3 unless another `server` is named. */
export async function tcp(topo: Topology, target: string, opts: TcpOptions, server?: IperfServer): Promise<TcpResult> {
  const args = ['-c', target, '-t', String(opts.seconds), '-P', String(opts.streams)];
  if (opts.reverse) args.push('-R');
  return parseTcp(await client(topo, args, opts.seconds, server));
}

export async function udp(topo: Topology, target: string, rateBps: number, seconds: number): Promise<Probe> {
  const args = ['-c', target, '-u', '-l', String(UDP_PAYLOAD), '-w', UDP_SOCKET_BUFFER, '-b', String(Math.round(rateBps)), '-t', String(seconds)];
  return parseUdp(await client(topo, args, seconds), rateBps);
}

export interface PingResult {
  rttsMs: number[];
  sent: number;
}

/** The `time=` of every reply ping printed. */
export function parsePingRtts(text: string): number[] {
  return [...text.matchAll(/\btime[=<]([\d.]+) ?ms/g)].map((m) => Number(m[1]));
}

export async function ping(topo: Topology, from: Node, target: string, count: number, intervalS: number): Promise<PingResult> {
  const r = await runIn(topo, from, 'ping', ['-n', '-c', String(count), '-i', String(intervalS), '-W', '2', target], (count * intervalS + 10) * 1000);
  return { rttsMs: parsePingRtts(r.output), sent: count };
}
