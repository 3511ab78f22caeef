// The only importer of the napi addon. It wraps the generated loader (never
// edited by hand) behind the Engine interface and turns the addon's
// "[code] message" errors into PimErrors a user can act on.

import * as path from 'node:path';
import { PimError, type ErrorCode } from '../errors.js';
import type { Engine, EngineEvent, EngineOptions, EngineSnapshot, PeerStatus } from './engine.js';
import { decodeEvent } from './events.js';

type NativeModule = typeof import('../../native/binding/index.js');

// dist/ts/native/binding.js → <package root>/native/binding/index.js
const ADDON_PATH = path.join(__dirname, '..', '..', '..', 'native', 'binding', 'index.js');

let loaded: NativeModule | undefined;

function addon(): NativeModule {
  if (loaded) return loaded;
  try {
    loaded = require(ADDON_PATH) as NativeModule;
    return loaded;
  } catch (err) {
    throw new PimError('engine_failed', `cannot load the pim data plane (${ADDON_PATH}): ${(err as Error).message}`, {
      hint: 'build it with `npm run build` (needs a Rust toolchain)',
      cause: err,
    });
  }
}

const CODES: Record<string, ErrorCode> = {
  tun_unavailable: 'tun_unavailable',
  udp_bind_failed: 'engine_failed',
  invalid_snapshot: 'internal',
  snapshot_stale: 'internal',
  engine_state: 'internal',
  engine_io: 'engine_failed',
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  tun_unavailable: 'run as root (sudo pim up) or grant CAP_NET_ADMIN, and check that /dev/net/tun exists',
};

function translate(err: unknown): PimError {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^\[([a-z_]+)\] (.*)$/s.exec(message);
  const code = (m && CODES[m[1]!]) ?? 'engine_failed';
  const text = m ? m[2]! : message;
  const hint = HINTS[code];
  return new PimError(code, text, hint === undefined ? { cause: err } : { hint, cause: err });
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw translate(err);
  }
}

export class NativeEngine implements Engine {
  private readonly inner = new (addon().Engine)();

  start(options: EngineOptions, snapshot: EngineSnapshot, onEvent: (event: EngineEvent) => void): void {
    call(() =>
      this.inner.start(options, snapshot, (raw) => {
        onEvent(decodeEvent(raw));
      }),
    );
  }

  applySnapshot(snapshot: EngineSnapshot): void {
    call(() => this.inner.applySnapshot(snapshot));
  }

  appliedVersion(): number {
    return this.inner.running ? call(() => this.inner.appliedVersion()) : 0;
  }

  forgetPeer(publicKey: string): boolean {
    return call(() => this.inner.forgetPeer(publicKey));
  }

  sendControl(publicKey: string, payload: Buffer): boolean {
    return this.inner.running && call(() => this.inner.sendControl(publicKey, payload));
  }

  stop(): void {
    this.inner.stop();
  }

  // Before start and after stop the engine has no port, counters or peers;
  // the control socket may be asked in that window, and the honest answer is "none".
  localPort(): number {
    return this.inner.running ? call(() => this.inner.localPort()) : 0;
  }

  stats(): Record<string, number> {
    return this.inner.running ? call(() => this.inner.stats()) : {};
  }

  peers(): PeerStatus[] {
    if (!this.inner.running) return [];
    return call(() => this.inner.peers()).map((p) => ({ ...p, state: p.state as PeerStatus['state'] }));
  }
}
