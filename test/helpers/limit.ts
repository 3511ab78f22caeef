// At most `n` of the wrapped calls at a time: a test file that starts dozens
// of processes at once on a 2-core machine makes each one slow enough to hit
// its timeout; queued, each runs in about the time it takes alone.

export function limit<A extends unknown[], R>(n: number, f: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (...args: A) => {
    if (running >= n) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await f(...args);
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
