// Waiting for a condition instead of sleeping for a guess: on a loaded
// machine a fixed sleep is either too short (a flake) or too long.

import type { ExecutionContext } from 'ava';
import { setTimeout as delay } from 'node:timers/promises';

/** Polls `check` every 20 ms; fails the test (and answers false) if it is not true within `timeoutMs`. */
export async function eventually(t: ExecutionContext, what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      t.fail(`timed out waiting for ${what}`);
      return false;
    }
    await delay(20);
  }
  return true;
}
