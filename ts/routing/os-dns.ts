// The system resolver while routing via the mesh with [route] dns: pointed at
// those resolvers, and back afterwards.
//
// - systemd-resolved (resolv.conf is its symlink): the resolvers go on the
//   mesh interface with the routing domain "~." (every name). That setting
//   lives on the interface, so it goes when the interface does.
// - otherwise: resolv.conf itself is swapped atomically. The original (file
//   or symlink, exactly as it was) is kept beside it as `<file>.pim-saved`
//   by a hard link before the swap, so there is never a moment without a
//   resolv.conf, and the saved copy survives a crash: `route off`, or the
//   next start with routing off, renames it back.
//
// PIM_RESOLV_CONF names another file than /etc/resolv.conf: the namespace
// tests point it at `ip netns`'s per-namespace /etc/netns/<ns>/resolv.conf so
// that no test touches the host's resolver.

import * as fs from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { PimError } from '../errors.js';
import { ifname, quiet, sh } from './os-exec.js';

const MARK = '# written by pim while routing via the mesh ([route] dns); `pim route off` restores the original';

function resolvConf(): string {
  return process.env.PIM_RESOLV_CONF || '/etc/resolv.conf';
}

const savedCopy = (file: string): string => `${file}.pim-saved`;

function managedByResolved(file: string): boolean {
  try {
    return fs.readlinkSync(file).includes('/run/systemd/resolve/');
  } catch {
    return false;
  }
}

/** The file is the one pim wrote (never a symlink: a swapped-in file is a regular one). */
function written(file: string): boolean {
  try {
    return !fs.lstatSync(file).isSymbolicLink() && fs.readFileSync(file, 'utf8').startsWith(MARK);
  } catch {
    return false;
  }
}

const exists = (file: string): boolean => fs.existsSync(file) || isLink(file);

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

export async function setResolvers(tun: string, servers: readonly string[]): Promise<void> {
  ifname(tun);
  const file = resolvConf();
  if (managedByResolved(file)) {
    await sh('resolvectl', ['dns', tun, ...servers]);
    await sh('resolvectl', ['domain', tun, '~.']);
    await sh('resolvectl', ['default-route', tun, 'yes']);
    return;
  }
  const saved = savedCopy(file);
  // The original is saved once: after a crash, or for a changed list, the file in place is pim's own.
  if (!exists(saved) && exists(file) && !written(file)) {
    try {
      fs.linkSync(file, saved);
    } catch (err) {
      throw new PimError('io_failed', `cannot keep a copy of ${file} as ${saved}: ${(err as Error).message}`);
    }
  }
  await writeFileAtomic(file, `${MARK}\n${servers.map((s) => `nameserver ${s}`).join('\n')}\n`, 0o644);
}

/** Puts the original resolver back (nothing to do when pim changed nothing). */
export async function restoreResolvers(tun: string): Promise<void> {
  ifname(tun);
  const file = resolvConf();
  if (managedByResolved(file)) {
    // The interface may be gone already; then so is its setting.
    await quiet(sh('resolvectl', ['revert', tun]));
    return;
  }
  const saved = savedCopy(file);
  try {
    if (exists(saved)) {
      // Someone replaced pim's file since: theirs stays, the stale copy goes.
      if (written(file) || !exists(file)) fs.renameSync(saved, file);
      else fs.rmSync(saved);
    } else if (written(file)) {
      fs.rmSync(file);
    }
  } catch (err) {
    throw new PimError('io_failed', `cannot restore ${file} from ${saved}: ${(err as Error).message}`, { hint: `move ${saved} back to ${file} by hand` });
  }
}
