// The prebuilt data plane comes as one npm package per platform, named the
// napi-rs way: <main package>-<platform>-<arch>-<libc>. When none loads, the
// user learns which platform was looked for and how to build from source.

import { PimError } from '../errors.js';
import { PACKAGE } from '../version.js';

const ARCH: Record<string, string> = { x86_64: 'x64', aarch64: 'arm64' };

/** `x86_64-unknown-linux-gnu` → `linux-x64-gnu`, as napi-rs names the platform packages. */
export function abiOfTarget(target: string): string {
  const [arch = '', , os = '', libc = ''] = target.split('-');
  return `${os}-${ARCH[arch] ?? arch}-${libc}`;
}

/** This machine in the same terms: `linux-x64-gnu`. */
export function currentAbi(): string {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`;
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return `linux-${process.arch}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

export function platformPackage(abi: string): string {
  return `${PACKAGE.name}-${abi}`;
}

/** Why the addon did not load, for a user: the platform looked for, and what to do. */
export function addonLoadError(err: unknown, loaderDir: string): PimError {
  const abi = currentAbi();
  const name = platformPackage(abi);
  const supported = PACKAGE.napi.targets.map(abiOfTarget);
  const fromSource = 'build from source: in a checkout of pim, `npm ci && npm run build` (needs Rust, https://rustup.rs)';
  let installed = true;
  try {
    require.resolve(`${name}/package.json`, { paths: [loaderDir] });
  } catch {
    installed = false;
  }
  if (!installed) {
    const hint = supported.includes(abi)
      ? `reinstall ${PACKAGE.name} so npm adds ${name} (an optional dependency; --no-optional or --omit=optional leaves it out), or ${fromSource}`
      : `prebuilt packages exist for ${supported.join(', ')}; here, ${fromSource}`;
    return new PimError('engine_failed', `no pim data plane for ${abi}: the package ${name} is not installed`, { hint, cause: err });
  }
  // The package is there but did not load (another libc, a damaged file): the loader's own reason.
  let reason = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err instanceof Error ? err.cause : undefined; e instanceof Error; e = e.cause) reason = e.message;
  return new PimError('engine_failed', `cannot load the pim data plane from ${name}: ${reason}`, { hint: fromSource, cause: err });
}
