// `pim ping <peer>`: latency probes through the tunnel (peers.ping), one a
// second, each reply with its round trip and whether it went direct or via a
// relay, like `tailscale ping`. The peer is named the way `pim peers` shows
// it: short id (or any unique node_id prefix), label, or mesh IP.

import { Command, InvalidArgumentError } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { PimError } from '../../errors.js';
import type { RpcClient } from '../../rpc/client.js';
import { cliContext, printJson, withClient } from '../context.js';
import { formatLatency, sanitizeForTerminal } from '../format.js';
import { DAEMON_ENV, helpFooter, JSON_OPTION } from '../help.js';

type Json = Record<string, unknown>;

interface Reply {
  node_id: string;
  node_id_short: string;
  mesh_ip: string;
  path: string;
  via: string | null;
  rtt_ms: number | null;
}

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
};
const positiveSeconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0.2) throw new InvalidArgumentError('expected seconds, at least 0.2');
  return n;
};

/** The one peer `ref` names: an exact mesh IP or label, else a node_id prefix (8 hex or more). */
export function resolvePeer(ref: string, peers: readonly Json[]): Json {
  const byIp = peers.filter((p) => p.mesh_ip === ref);
  const byLabel = peers.filter((p) => p.label === ref);
  const byId = /^[0-9a-f]{8,32}$/.test(ref) ? peers.filter((p) => typeof p.node_id === 'string' && p.node_id.startsWith(ref)) : [];
  for (const matches of [byIp, byLabel, byId]) {
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new PimError('usage', `'${ref}' names ${matches.length} peers: ${matches.map((p) => String(p.node_id_short)).join(', ')}`, { hint: 'use a longer node_id prefix' });
    }
  }
  throw new PimError('peer_not_found', `no peer matches '${ref}'`, { hint: '`pim peers` lists them by short id, label and mesh IP' });
}

function describe(peer: Json, r: Reply, peers: readonly Json[]): string {
  const name = peer.label === null || peer.label === undefined ? r.node_id_short : `${sanitizeForTerminal(String(peer.label))} (${r.node_id_short})`;
  const relay = r.via === null ? undefined : peers.find((p) => p.node_id === r.via);
  const route = r.path === 'direct' ? 'direct' : relay?.label ? `${r.path} (${sanitizeForTerminal(String(relay.label))})` : r.path;
  return `${name} at ${r.mesh_ip}, ${route}`;
}

export function pingCommand(): Command {
  return new Command('ping')
    .description('probe a peer through the tunnel: each reply with its round trip and whether it went direct or via a relay')
    .argument('<peer>', 'short id (or a longer node_id prefix), label, or mesh IP')
    .option('-c, --count <n>', 'how many probes', positiveInt, 4)
    .option('-i, --interval <seconds>', 'time between probes', positiveSeconds, 1)
    .option(...JSON_OPTION)
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim ping bravo', 'sudo pim ping 3fa2c1d0 -c 10 -i 0.5', 'sudo pim ping 10.77.1.2 --json'] }))
    .action(async (ref: string, opts: { count: number; interval: number; json?: boolean }, cmd: Command) => {
      process.exitCode = await withClient(cliContext(cmd), (client) => ping(client, ref, opts));
    });
}

async function ping(client: RpcClient, ref: string, opts: { count: number; interval: number; json?: boolean }): Promise<number> {
  const peers = (await client.call('peers.list')) as Json[];
  const peer = resolvePeer(ref, peers);
  let interrupted = false;
  const onSigint = (): void => void (interrupted = true);
  process.once('SIGINT', onSigint);
  const replies: Reply[] = [];
  try {
    for (let seq = 1; seq <= opts.count && !interrupted; seq++) {
      const started = Date.now();
      const r = (await client.call('peers.ping', { node_id: peer.node_id })) as Reply;
      replies.push(r);
      if (!opts.json) {
        const where = describe(peer, r, peers);
        process.stdout.write(r.rtt_ms === null ? `no reply from ${where}\n` : `pong from ${where} in ${formatLatency(r.rtt_ms)}\n`);
      }
      if (seq < opts.count) await delay(Math.max(0, opts.interval * 1000 - (Date.now() - started)));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  const rtts = replies.map((r) => r.rtt_ms).filter((v): v is number => v !== null);
  if (opts.json) {
    const last = replies[replies.length - 1];
    printJson({ node_id: peer.node_id, node_id_short: peer.node_id_short, mesh_ip: last?.mesh_ip ?? peer.mesh_ip, sent: replies.length, received: rtts.length, probes: replies.map((r, i) => ({ seq: i + 1, rtt_ms: r.rtt_ms, path: r.path, via: r.via })) });
  } else {
    const lost = replies.length === 0 ? 0 : Math.round((100 * (replies.length - rtts.length)) / replies.length);
    const stats = rtts.length === 0 ? '' : `; round trip min/avg/max ${Math.min(...rtts).toFixed(1)}/${(rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(1)}/${Math.max(...rtts).toFixed(1)} ms`;
    process.stdout.write(`${replies.length} probes, ${rtts.length} replies, ${lost}% lost${stats}\n`);
  }
  return rtts.length > 0 ? 0 : 1;
}
