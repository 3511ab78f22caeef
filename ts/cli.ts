#!/usr/bin/env node
// pim: the command-line client. Every command but `up`, `id`, `config` and
// `completion` talks to a running daemon only through its control socket.

import { printError } from './report.js';
import { buildProgram } from './cli/program.js';
import { CleanExit } from './cli/usage.js';

buildProgram()
  .parseAsync(process.argv)
  .then(
    () => undefined,
    (err: unknown) => {
      process.exitCode = err instanceof CleanExit ? err.code : printError('pim', err);
    },
  );
