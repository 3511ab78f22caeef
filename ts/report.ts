// How a command or the daemon ends on an error: one line on stderr (plus a
// hint line where one helps) and the registry's exit code; never a stack trace.

import { describeError, ERRORS, isPimError } from './errors.js';
import { RpcCallError } from './rpc/client.js';

export function printError(prefix: string, err: unknown): number {
  if (isPimError(err)) {
    process.stderr.write(`${prefix}: ${err.message}\n`);
    if (err.hint) process.stderr.write(`${prefix}: hint: ${err.hint}\n`);
    return err.exitCode;
  }
  if (err instanceof RpcCallError) {
    process.stderr.write(`${prefix}: ${err.message}\n`);
    return Object.values(ERRORS).find((e) => e.rpc === err.code)?.exit ?? 1;
  }
  process.stderr.write(`${prefix}: ${describeError(err)}\n`);
  return 1;
}
