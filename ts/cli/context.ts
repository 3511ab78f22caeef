// What every command needs to find its daemon: the config file (-c, else
// $PIM_CONFIG, else the default path) and, from it, the control socket.

import type { Command } from 'commander';
import * as fs from 'node:fs';
import { currentPathEnv, defaultConfigPath, defaultSocketPath, type PathEnv } from '../config/paths.js';
import { describeError, PimError } from '../errors.js';
import { RpcClient } from '../rpc/client.js';
import { socketFromConfig } from './socket.js';
import { VERSION } from '../version.js';

export interface CliContext {
  pathEnv: PathEnv;
  /** -c FILE, or undefined when not given. */
  configFlag: string | undefined;
}

/** The context of a command: its global `-c`, given before or after the command name. */
export function cliContext(cmd: Command): CliContext {
  return { pathEnv: currentPathEnv(), configFlag: (cmd.optsWithGlobals() as { config?: string }).config };
}

export function configPath(ctx: CliContext): string {
  return ctx.configFlag ?? defaultConfigPath(ctx.pathEnv);
}

/** The socket the daemon for this config listens on; a config with mistakes is warned about, not fatal. */
export async function socketPath(ctx: CliContext): Promise<string> {
  const file = configPath(ctx);
  // Without an explicit -c, a missing default config just means default paths.
  if (ctx.configFlag === undefined && !fs.existsSync(file)) return defaultSocketPath(ctx.pathEnv);
  const { socket, warning } = socketFromConfig(file, await readConfigText(file), ctx.pathEnv);
  if (warning !== undefined) process.stderr.write(`pim: warning: ${warning}\n`);
  return socket;
}

async function readConfigText(file: string): Promise<string> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PimError('config_invalid', `config file ${file} does not exist`, { hint: 'point -c at the daemon\'s config file, or leave -c out to use the default socket' });
    }
    throw new PimError('io_failed', `cannot read config file ${file}: ${describeError(err)}`, { cause: err });
  }
}

export async function connect(ctx: CliContext): Promise<RpcClient> {
  return connectTo(await socketPath(ctx));
}

export function connectTo(socket: string): Promise<RpcClient> {
  return RpcClient.connect(socket, { client: `pim-cli/${VERSION}` });
}

export async function withClient<T>(ctx: CliContext, f: (c: RpcClient) => Promise<T>): Promise<T> {
  const client = await connect(ctx);
  try {
    return await f(client);
  } finally {
    await client.close();
  }
}

export function printJson(doc: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ schema_version: 1, ...doc }, null, 2)}\n`);
}
