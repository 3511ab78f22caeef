// A test-only fault in the control plane: with PIM_TEST_CRASH=exception (or
// =rejection) in the daemon's environment, SIGUSR2 makes it throw an
// uncaught exception (or leave a promise rejection unhandled), as a bug
// would. The namespace tests use it to show that a crash fails closed. The
// control socket cannot set a daemon's environment or send it signals.

const KINDS = ['exception', 'rejection'] as const;

export function armTestCrash(): void {
  const kind = process.env.PIM_TEST_CRASH;
  if (kind === undefined || kind === '') return;
  if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`PIM_TEST_CRASH must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  process.on('SIGUSR2', () => {
    const err = new Error(`PIM_TEST_CRASH: injected ${kind}`);
    if (kind === 'exception') {
      setImmediate(() => {
        throw err;
      });
    } else {
      void Promise.reject(err);
    }
  });
}
