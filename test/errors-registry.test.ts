// The error registry, docs/RPC.md's table and the codes the socket sends stay in step.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERRORS, PimError, type ErrorCode } from '../ts/errors.js';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'RPC.md'), 'utf8');
const documented = new Map([...doc.matchAll(/^\| `([a-z_]+)` \| (-\d+) \| (.+) \|$/gm)].map((m) => [m[1]!, Number(m[2])]));

test('every error with a JSON-RPC code is documented with that code, and nothing else is', (t) => {
  const withRpc = Object.entries(ERRORS).filter(([, e]) => e.rpc !== null);
  t.deepEqual(new Map(withRpc.map(([code, e]) => [code, e.rpc])), documented);
});

test('JSON-RPC codes are unique', (t) => {
  const codes = Object.values(ERRORS).flatMap((e) => (e.rpc === null ? [] : [e.rpc]));
  t.is(new Set(codes).size, codes.length);
});

test('exit codes follow the CLI contract: usage 2, daemon not running 3, others 1 or 2', (t) => {
  t.is(ERRORS.usage.exit, 2);
  t.is(ERRORS.daemon_not_running.exit, 3);
  for (const [code, e] of Object.entries(ERRORS)) {
    t.true([1, 2, 3].includes(e.exit), code);
  }
});

test('a PimError carries its registry numbers', (t) => {
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    const err = new PimError(code, 'x');
    t.is(err.exitCode, ERRORS[code].exit);
    t.is(err.rpcCode, ERRORS[code].rpc ?? ERRORS.internal.rpc);
  }
});
