// pim daemons inside a Lab: each node gets its own key, config, trust store
// and control socket in a temp dir, and runs the real `pim-daemon` in its
// network namespace. Used by the integration tests and the demo.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadIdentity } from '../identity/identity.js';
import { RpcClient } from '../rpc/client.js';
import type { Lab, LabProcess, Node } from './netns.js';

/** The compiled daemon and CLI beside this file (dist/ts/lab → dist/ts). */
export const DAEMON_JS = path.join(__dirname, '..', 'main.js');
export const CLI_JS = path.join(__dirname, '..', 'cli.js');

export interface StaticPeer {
  address: string;
  publicKey: string;
  label: string;
}

export interface MeshNode {
  node: Node;
  label: string;
  dir: string;
  configPath: string;
  socketPath: string;
  publicKey: string;
  nodeId: string;
}

export interface MeshNodeOptions {
  label: string;
  listenPort?: number;
  /** Extra TOML appended to the generated config (tables after the defaults). */
  extraToml?: string;
  /** LAN discovery on, announcing this often; off when absent. */
  discoveryIntervalS?: number;
}

/** Creates the node's identity and directory; `writeConfig` names its peers. */
export async function prepareNode(lab: Lab, node: Node, opts: MeshNodeOptions): Promise<MeshNode> {
  const dir = await lab.tmpDir();
  const identity = loadIdentity(path.join(dir, 'node.key'));
  return {
    node,
    label: opts.label,
    dir,
    configPath: path.join(dir, 'pim.toml'),
    socketPath: path.join(dir, 'pim.sock'),
    publicKey: identity.publicKeyHex,
    nodeId: identity.nodeId,
  };
}

export function writeConfig(m: MeshNode, peers: readonly StaticPeer[], opts: MeshNodeOptions): void {
  const lines = [
    '[node]',
    `name = "${m.label}"`,
    '[security]',
    `key_file = "${path.join(m.dir, 'node.key')}"`,
    '[transport]',
    `listen_port = ${opts.listenPort ?? 9100}`,
    '[discovery]',
    ...(opts.discoveryIntervalS === undefined ? ['enabled = false'] : ['enabled = true', `interval_s = ${opts.discoveryIntervalS}`]),
    '[trust]',
    `store = "${path.join(m.dir, 'trust.json')}"`,
    '[rpc]',
    `socket = "${m.socketPath}"`,
    ...peers.flatMap((p) => ['[[peers]]', `address = "${p.address}"`, `public_key = "${p.publicKey}"`, `label = "${p.label}"`]),
    opts.extraToml ?? '',
  ];
  fs.writeFileSync(m.configPath, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/**
 * The resolv.conf a lab daemon may swap for [route] dns: its namespace's own
 * (`ip netns exec` shows /etc/netns/<ns>/resolv.conf as /etc/resolv.conf),
 * never the host's. Where the test made no such file, a swap fails.
 */
export const namespaceResolvConf = (node: Node): string => `/etc/netns/${node.ns}/resolv.conf`;

/** Starts pim-daemon in the node's namespace (with `env` added to its environment) and waits until it is fully up (its interface is). */
export async function startDaemon(lab: Lab, m: MeshNode, timeoutMs = 15_000, env: Record<string, string> = {}): Promise<LabProcess> {
  const proc = lab.spawn(m.node, process.execPath, [DAEMON_JS, '-c', m.configPath], {
    logFile: path.join(m.dir, 'daemon.log'),
    env: { PIM_RESOLV_CONF: namespaceResolvConf(m.node), ...env },
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitStatus) throw new Error(`pim-daemon on ${m.label} exited during start:\n${proc.output()}`);
    try {
      const c = await RpcClient.connect(m.socketPath, { client: 'pim-lab', timeoutMs: 1000 });
      const up = ((await c.call('status')) as { interface: { up: boolean } }).interface.up;
      await c.close();
      if (up) return proc;
      throw new Error('starting');
    } catch {
      if (Date.now() > deadline) throw new Error(`pim-daemon on ${m.label} did not answer within ${timeoutMs} ms:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function rpcCall(m: MeshNode, method: string, params?: Record<string, unknown>): Promise<unknown> {
  const c = await RpcClient.connect(m.socketPath, { client: 'pim-lab' });
  try {
    return await c.call(method, params);
  } finally {
    await c.close();
  }
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type PeerRow = Record<string, unknown>;

/** Resolves once `m` lists `peer` in the given state. */
export function waitForPeerState(m: MeshNode, peer: MeshNode, state: string, timeoutMs = 10_000): Promise<PeerRow> {
  return waitUntil(`${m.label} to see ${peer.label} ${state}`, timeoutMs, async () => {
    const list = (await rpcCall(m, 'peers.list')) as PeerRow[];
    return list.find((p) => p.node_id === peer.nodeId && p.state === state);
  });
}
