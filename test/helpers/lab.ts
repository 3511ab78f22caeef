// What the integration tests share: a test that runs in a fresh network lab
// (registered as skipped, the reason in its title, where the lab cannot run),
// the pim CLI run against a lab node's config, and the two-node static pair
// most tests start from.

import test, { type ExecutionContext } from 'ava';
import { run, type RunResult } from '../../ts/lab/exec.js';
import { CLI_JS, prepareNode, writeConfig, type MeshNode } from '../../ts/lab/mesh.js';
import { Lab, labAvailable, type Link, type Node } from '../../ts/lab/netns.js';
import { RpcClient } from '../../ts/rpc/client.js';

const available = labAvailable();

export interface LabTestOptions {
  /** Namespace prefix, so a lab left behind names the tests that made it. */
  prefix: string;
  /** One at a time: for tests whose measured times should not compete for the CPU. */
  serial?: boolean;
  timeoutMs?: number;
}

export type LabBody = (t: ExecutionContext, lab: Lab) => Promise<void>;

/**
 * A test that needs the network lab (root, ip, /dev/net/tun). Where the lab
 * cannot run it is registered as skipped with the reason in its title, so
 * ava's summary counts it as a skip, not a pass.
 */
export function labTest(title: string, body: (t: ExecutionContext) => Promise<void>, opts: { serial?: boolean } = {}): void {
  if (!available.ok) {
    (opts.serial ? test.serial.skip : test.skip)(`${title} [skipped: ${available.reason}]`, () => undefined);
    return;
  }
  (opts.serial ? test.serial : test)(title, body);
}

/** A `labTest` whose body gets its own lab, cleaned up however the test ends; `prefix` overrides the namespace prefix for one test. */
export function labTests(opts: LabTestOptions): (title: string, body: LabBody, prefix?: string) => void {
  return (title, body, prefix = opts.prefix) => {
    labTest(
      title,
      async (t) => {
        if (opts.timeoutMs !== undefined) t.timeout(opts.timeoutMs);
        const lab = Lab.create(prefix);
        t.teardown(() => lab.cleanup());
        await body(t, lab);
      },
      { serial: opts.serial },
    );
  };
}

/** The CLI (`node dist/ts/cli.js -c <config> …`), run on the host (the socket is a file), with no PIM_* variable of ours leaking in. */
export function pim(m: MeshNode, ...args: string[]): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIM_')) env[k] = v;
  return run(process.execPath, [CLI_JS, '-c', m.configPath, ...args], { allowFailure: true, timeoutMs: 30_000, env });
}

/** `pim …` that must exit 0; its stdout. */
export async function pimOk(t: ExecutionContext, m: MeshNode, ...args: string[]): Promise<string> {
  const r = await pim(m, ...args);
  t.is(r.code, 0, `pim ${args.join(' ')} on ${m.label} exits 0; stderr: ${r.stderr}`);
  return r.stdout;
}

export interface StaticPair {
  a: MeshNode;
  b: MeshNode;
  na: Node;
  nb: Node;
  link: Link;
}

/** Nodes A ('alpha') and B ('bravo') on 198.18.0.0/24, each with the other as a static peer on UDP 9100; no daemon started yet. */
export async function staticPair(lab: Lab): Promise<StaticPair> {
  const [na, nb] = await Promise.all([lab.addNode('a'), lab.addNode('b')]);
  const link = await lab.link(na, nb, { subnet: '198.18.0.0/24' });
  const a = await prepareNode(lab, na, { label: 'alpha' });
  const b = await prepareNode(lab, nb, { label: 'bravo' });
  writeConfig(a, [{ address: `${link.addrB}:9100`, publicKey: b.publicKey, label: 'bravo' }], { label: 'alpha' });
  writeConfig(b, [{ address: `${link.addrA}:9100`, publicKey: a.publicKey, label: 'alpha' }], { label: 'bravo' });
  return { a, b, na, nb, link };
}

/** Subscribes to `<topic>.event` on a daemon; the events' params arrive in the returned array. */
export async function eventsOf(t: ExecutionContext, m: MeshNode, topic: 'peers' | 'status'): Promise<Record<string, unknown>[]> {
  const client = await RpcClient.connect(m.socketPath, { client: `pim-${topic}-test` });
  t.teardown(() => client.close());
  const events: Record<string, unknown>[] = [];
  client.onNotification((method, params) => {
    if (method === `${topic}.event`) events.push(params as Record<string, unknown>);
  });
  const r = await client.call<Record<string, unknown>>(`${topic}.subscribe`);
  if (typeof r?.subscription_id !== 'string') throw new Error(`${topic}.subscribe answered ${JSON.stringify(r)}`);
  return events;
}
