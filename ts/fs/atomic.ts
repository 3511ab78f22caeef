// Whole-file writes that never leave a half-written file: write a temp file
// beside the target, fsync it, rename over the target, fsync the directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PimError } from '../errors.js';

export async function writeFileAtomic(file: string, data: string | Buffer, mode: number): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(tmp, 'wx', mode);
    // The umask narrowed the mode open() applied; the file gets exactly `mode`.
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(tmp, file);
    const dirHandle = await fs.promises.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw new PimError('io_failed', `cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}
