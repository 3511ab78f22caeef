// Throwaway network topologies for tests, the demo and the benchmark: network
// namespaces joined by veth pairs, processes running inside them, temp dirs.
//
// A Lab remembers everything it creates and removes it in cleanup(). Tests must
// call cleanup() in t.teardown() (or a finally block): nothing else removes a
// lab when a test fails. Long-running programs (the demo) also call
// cleanupOnExit(lab) so Ctrl-C or a kill still leaves the machine clean.
//
// Names: the run id `pim-<prefix>-<6 hex>` prefixes every namespace, so parallel
// runs never collide. Interface names are capped at 15 characters by the kernel,
// so veths are named `v<6 hex><link number><a|b>` instead.

import { spawn as spawnChild, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv4, parseCidr, parseIpv4 } from '../net/ipv4.js';
import { commandLine, inNetns, run, type RunOptions, type RunResult } from './exec.js';

export interface Node {
  readonly name: string;
  /** The network namespace the node lives in. */
  readonly ns: string;
}

export type LinkOptions = { subnet: string } | { addrA: string; addrB: string; prefixLen: number };

export interface Link {
  ifA: string;
  ifB: string;
  addrA: string;
  addrB: string;
}

export interface SpawnOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Also write everything the process prints to this file. */
  logFile?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LabAvailability = { ok: true } | { ok: false; reason: string };

const KILL_GRACE_MS = 2000;
const PREFIX = /^[a-z0-9][a-z0-9-]{0,15}$/;
const NODE_NAME = /^[a-z0-9][a-z0-9-]{0,15}$/;

/** A background process inside a namespace. Its stdout and stderr are kept, interleaved, in output(). */
export class LabProcess {
  readonly pid: number;
  readonly command: string;
  private readonly chunks: Buffer[] = [];
  private status: ExitStatus | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(child: ChildProcess, command: string, logFd: number | undefined) {
    this.command = command;
    let log = logFd;
    const closeLog = (): void => {
      if (log !== undefined) closeSync(log);
      log = undefined;
    };
    const keep = (chunk: Buffer): void => {
      this.chunks.push(chunk);
      if (log !== undefined) writeSync(log, chunk);
      this.notify();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => keep(Buffer.from(`\n[lab] ${err.message}\n`)));
    // 'close' rather than 'exit': everything the process printed has been read by then.
    child.on('close', (code, signal) => {
      closeLog();
      this.status = { code, signal };
      this.notify();
    });
    if (child.pid === undefined) {
      closeLog();
      throw new Error(`cannot start \`${command}\`: is iproute2's ip on PATH?`);
    }
    this.pid = child.pid;
  }

  output(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** How the process ended, or undefined while it runs. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /**
   * Signals the process's whole group (it is spawned as a group leader), so
   * helpers it started go too. A process that has already exited is left alone.
   */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.status) return;
    try {
      process.kill(-this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  waitExit(timeoutMs: number): Promise<ExitStatus> {
    return this.waitFor(timeoutMs, `to exit`, () => this.status);
  }

  /** Resolves once the output matches; rejects if the process exits first or the time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return this.waitFor(timeoutMs, `to print ${pattern}`, () => {
      const match = this.output().match(pattern);
      if (match) return match;
      if (this.status) {
        throw new Error(`\`${this.command}\` exited (${describeExit(this.status)}) before printing ${pattern}${this.describeOutput()}`);
      }
      return undefined;
    });
  }

  private waitFor<T>(timeoutMs: number, what: string, check: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): void => {
        try {
          const value = check();
          if (value === undefined) return;
          finish();
          resolve(value);
        } catch (err) {
          finish();
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`waited ${timeoutMs} ms for \`${this.command}\` ${what}${this.describeOutput()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      this.waiters.add(attempt);
      attempt();
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private describeOutput(): string {
    const text = this.output().trim();
    return text === '' ? ' (it printed nothing)' : `; its output:\n${text}`;
  }
}

export class Lab {
  readonly id: string;
  private readonly hex: string;
  private readonly nodes = new Map<string, Node>();
  private readonly veths: Array<{ ns: string; iface: string }> = [];
  private readonly processes: LabProcess[] = [];
  private readonly dirs: string[] = [];
  private links = 0;
  private closing: Promise<void> | undefined;

  private constructor(prefix: string) {
    this.hex = randomBytes(3).toString('hex');
    this.id = `pim-${prefix}-${this.hex}`;
  }

  /** A new, empty lab. Nothing is created on the machine until addNode(). */
  static create(prefix: string): Lab {
    if (!PREFIX.test(prefix)) {
      throw new Error(`lab prefix must be 1-16 lowercase letters, digits or dashes, got ${JSON.stringify(prefix)}`);
    }
    return new Lab(prefix);
  }

  /** A namespace with lo up and IPv6 off, so captures carry no IPv6 noise. */
  async addNode(name: string): Promise<Node> {
    this.ensureOpen();
    if (!NODE_NAME.test(name)) {
      throw new Error(`node name must be 1-16 lowercase letters, digits or dashes, got ${JSON.stringify(name)}`);
    }
    if (this.nodes.has(name)) throw new Error(`lab ${this.id} already has a node named ${name}`);
    const node: Node = { name, ns: `${this.id}-${name}` };
    await run('ip', ['netns', 'add', node.ns]);
    // Ctrl-C may have started cleanup() while the namespace was being made.
    if (this.closing) {
      await run('ip', ['netns', 'del', node.ns], { allowFailure: true });
      this.ensureOpen();
    }
    this.nodes.set(name, node);
    await run('ip', ['-n', node.ns, 'link', 'set', 'lo', 'up']);
    await inNetns(node.ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return node;
  }

  /** A veth pair between two nodes, addressed and up. `subnet` gives A the .1 and B the .2 of it. */
  async link(a: Node, b: Node, opts: LinkOptions): Promise<Link> {
    this.ensureOpen();
    if (a.ns === b.ns) throw new Error(`cannot link node ${a.name} to itself`);
    const { addrA, addrB, prefixLen } = linkAddresses(opts);
    const n = ++this.links;
    const ifA = `v${this.hex}${n}a`;
    const ifB = `v${this.hex}${n}b`;
    await run('ip', ['link', 'add', ifA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.ns]);
    this.veths.push({ ns: a.ns, iface: ifA });
    for (const [ns, iface, addr] of [[a.ns, ifA, addrA], [b.ns, ifB, addrB]] as const) {
      await run('ip', ['-n', ns, 'addr', 'add', `${addr}/${prefixLen}`, 'dev', iface]);
      await run('ip', ['-n', ns, 'link', 'set', iface, 'up']);
    }
    return { ifA, ifB, addrA, addrB };
  }

  spawn(node: Node, cmd: string, args: readonly string[], opts: SpawnOptions = {}): LabProcess {
    this.ensureOpen();
    const logFd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'w');
    // `ip netns exec` execs the command in place, so the pid is the command's own.
    // detached makes it a process-group leader: kill() then reaches its children.
    const child = spawnChild('ip', ['netns', 'exec', node.ns, cmd, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const proc = new LabProcess(child, `${commandLine(cmd, args)} (in ${node.ns})`, logFd);
    this.processes.push(proc);
    return proc;
  }

  exec(node: Node, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.ensureOpen();
    return inNetns(node.ns, cmd, args, opts);
  }

  async tmpDir(): Promise<string> {
    this.ensureOpen();
    const dir = await mkdtemp(join(tmpdir(), `${this.id}-`));
    if (this.closing) {
      await rm(dir, { recursive: true, force: true });
      this.ensureOpen();
    }
    this.dirs.push(dir);
    return dir;
  }

  /**
   * Removes everything: processes (SIGTERM, then SIGKILL after a grace period),
   * veths, namespaces, temp dirs. Idempotent and never throws; what it cannot
   * remove it reports on stderr, since a test teardown has nowhere better to say it.
   */
  cleanup(): Promise<void> {
    this.closing ??= this.removeAll();
    return this.closing;
  }

  /** For exit handlers, where nothing asynchronous runs: SIGKILL at once, then remove the rest. */
  cleanupSync(): void {
    this.closing ??= Promise.resolve();
    for (const proc of this.processes) proc.kill('SIGKILL');
    // Deleting a namespace destroys the veth ends inside it.
    for (const node of this.nodes.values()) spawnSync('ip', ['netns', 'del', node.ns], { stdio: 'ignore' });
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    forget(this);
  }

  private async removeAll(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, action: () => Promise<unknown>): Promise<void> => {
      try {
        await action();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    await Promise.all(this.processes.map((proc) => attempt(`stop pid ${proc.pid}`, () => stop(proc))));
    for (const { ns, iface } of this.veths) {
      await attempt(`delete veth ${iface}`, async () => {
        const result = await run('ip', ['-n', ns, 'link', 'del', iface], { allowFailure: true });
        // Gone already (the peer's namespace went first, or the test removed it) is fine.
        if (result.code !== 0 && !/Cannot find device|Cannot open network namespace/.test(result.stderr)) {
          throw new Error(result.stderr.trim());
        }
      });
    }
    for (const node of this.nodes.values()) {
      await attempt(`delete netns ${node.ns}`, () => run('ip', ['netns', 'del', node.ns]));
    }
    for (const dir of this.dirs) {
      await attempt(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    }
    forget(this);
    if (problems.length > 0) {
      process.stderr.write(`pim lab ${this.id}: cleanup left things behind; remove them by hand:\n  ${problems.join('\n  ')}\n`);
    }
  }

  private ensureOpen(): void {
    if (this.closing) throw new Error(`lab ${this.id} has been cleaned up; create a new one`);
  }
}

async function stop(proc: LabProcess): Promise<void> {
  if (proc.exitStatus) return;
  proc.kill('SIGTERM');
  try {
    await proc.waitExit(KILL_GRACE_MS);
  } catch {
    proc.kill('SIGKILL');
    await proc.waitExit(KILL_GRACE_MS);
  }
}

function linkAddresses(opts: LinkOptions): { addrA: string; addrB: string; prefixLen: number } {
  if ('subnet' in opts) {
    const cidr = parseCidr(opts.subnet);
    if (!cidr || cidr.prefixLen > 30) {
      throw new Error(`link subnet must be an IPv4 prefix of /30 or wider, like 198.18.1.0/24; got ${JSON.stringify(opts.subnet)}`);
    }
    return { addrA: formatIpv4(cidr.network + 1), addrB: formatIpv4(cidr.network + 2), prefixLen: cidr.prefixLen };
  }
  for (const addr of [opts.addrA, opts.addrB]) {
    if (parseIpv4(addr) === null) throw new Error(`link address must be a dotted-quad IPv4 address, got ${JSON.stringify(addr)}`);
  }
  if (!Number.isInteger(opts.prefixLen) || opts.prefixLen < 1 || opts.prefixLen > 32) {
    throw new Error(`link prefixLen must be an integer 1..32, got ${opts.prefixLen}`);
  }
  return opts;
}

function describeExit(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `code ${status.code}`;
}

/** Whether this machine can run a lab; tests skip with the reason when not. */
export function labAvailable(): LabAvailability {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (network namespaces)' };
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).error) {
    return { ok: false, reason: 'needs the ip command (apt-get install iproute2)' };
  }
  // The daemons under test open TUN devices inside the namespaces.
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'needs /dev/net/tun (load the tun module)' };
  return { ok: true };
}

// One set of process handlers serves every registered lab, so a signal exits
// only after all of them are clean.
const registered = new Set<Lab>();
let exiting = false;

function onExit(): void {
  for (const lab of [...registered]) lab.cleanupSync();
}

function onSignal(signal: NodeJS.Signals): void {
  if (exiting) return;
  exiting = true;
  void Promise.all([...registered].map((lab) => lab.cleanup())).finally(() => process.exit(128 + constants.signals[signal]));
}

/**
 * Removes the lab when the process exits or gets SIGINT/SIGTERM, for programs
 * like the demo that a user may interrupt. The handlers go away once every
 * registered lab has been cleaned up.
 */
export function cleanupOnExit(lab: Lab): void {
  if (registered.size === 0) {
    process.on('exit', onExit);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  registered.add(lab);
}

function forget(lab: Lab): void {
  if (!registered.delete(lab) || registered.size > 0) return;
  process.off('exit', onExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
