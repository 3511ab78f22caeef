// A temp dir per test, removed with everything in it when the test ends.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A fresh directory under the OS temp dir, removed when the test ends however
 * it ends. Its name starts with `prefix`, else with the test's title, so a
 * directory left behind names the test that made it.
 */
export function tempDir(t: { title?: string; teardown(fn: () => void): void }, prefix?: string): string {
  const slug = (t.title ?? 'test').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 32);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix ?? `pim-${slug}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
