// Tests that mean nothing as root: root reads and writes any file whatever
// its mode, so a test of a permission refusal cannot fail there.

import test, { type ExecutionContext } from 'ava';

const asRoot = process.getuid?.() === 0;

/** A test registered as skipped when run as root, `whyNotAsRoot` in its title, so the summary counts a skip, not a pass. */
export function nonRootTest(title: string, whyNotAsRoot: string, body: (t: ExecutionContext) => void | Promise<void>): void {
  if (asRoot) test.skip(`${title} [skipped as root: ${whyNotAsRoot}]`, () => undefined);
  else test(title, body);
}
