// `pim watch`: a live view of this node, its peers (state, path, latency,
// traffic rates), routing and gateway role and the latest events, from the
// control socket's notifications and a poll every second. On a terminal it
// redraws in place until q or Ctrl-C; otherwise it prints plain lines: the
// peers once, then one line per event.

import { Command } from 'commander';
import type { RpcClient } from '../../rpc/client.js';
import { cliContext, connect } from '../context.js';
import { DAEMON_ENV, helpFooter } from '../help.js';
import { WatchModel } from '../watch/model.js';
import { watchOnTerminal } from '../watch/terminal.js';

const POLL_MS = 1000;
// gateway.event reaches status subscribers too (docs/RPC.md): subscribing to gateway as well would show each twice.
const TOPICS = ['status', 'peers'];

type Json = Record<string, unknown>;

export function watchCommand(): Command {
  return new Command('watch')
    .description('a live view: peers (state, path, latency, traffic rates), routing, gateway role and events; q or Ctrl-C quits')
    .addHelpText('after', helpFooter({ env: DAEMON_ENV, examples: ['sudo pim watch', 'sudo pim watch | tee watch.log    # plain lines, one per event'] }))
    .action(async (_opts: unknown, cmd: Command) => {
      const client = await connect(cliContext(cmd));
      const model = new WatchModel();
      const poll = async (): Promise<void> => {
        const [status, table, gateway] = await Promise.all(['status', 'route.table', 'gateway.status'].map((m) => client.call<Json>(m)));
        model.update(Date.now(), status!, table!, gateway!);
      };
      await poll();
      for (const topic of TOPICS) await client.call(`${topic}.subscribe`);
      process.exitCode = process.stdout.isTTY && process.stdin.isTTY ? await watchOnTerminal(client, model, poll, POLL_MS) : await watchAsLines(client, model);
    });
}

/** Not a terminal: the peers as they are now, then a line per event, until the daemon stops or a signal. */
async function watchAsLines(client: RpcClient, model: WatchModel): Promise<number> {
  const s = model.status!;
  const now = new Date().toISOString();
  process.stdout.write(`${now} watching node ${String(s.node)} (${String(s.node_id_short)}), ${String(s.mesh_ip)}\n`);
  for (const p of (s.peers ?? []) as Json[]) {
    process.stdout.write(`${now} peer ${String(p.node_id_short)} ${p.label === null ? '' : `(${String(p.label)}) `}${String(p.state)} ${String(p.path)}\n`);
  }
  client.onNotification((method, params) => {
    if (method === 'logs.event') return;
    const e = model.addEvent(method, params as Json);
    process.stdout.write(`${e.at} ${e.text}\n`);
  });
  const stopped = await Promise.race([
    client.whenClosed().then(() => 'closed' as const),
    new Promise<'signal'>((resolve) => {
      process.once('SIGINT', () => resolve('signal'));
      process.once('SIGTERM', () => resolve('signal'));
    }),
  ]);
  await client.close();
  if (stopped === 'closed') {
    process.stderr.write('pim: the daemon closed the connection\n');
    return 1;
  }
  return 0;
}
