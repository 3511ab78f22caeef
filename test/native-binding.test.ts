// The napi contract, checked against the built addon without root: every
// engine error code maps into the error registry, and engine errors carry
// their code as a property (ts/native/binding.ts checks the types at compile
// time; this checks the values at run time).

import test from 'ava';
import { ENGINE_ERRORS, ERRORS, isPimError } from '../ts/errors.js';
import { engineErrorCodes, NativeEngine } from '../ts/native/binding.js';
import type { EngineSnapshot } from '../ts/native/engine.js';

test('every code the engine can throw maps into the error registry, and the registry maps nothing else', (t) => {
  const codes = engineErrorCodes();
  t.true(codes.length > 0);
  t.deepEqual([...codes].sort(), Object.keys(ENGINE_ERRORS).sort());
  for (const [engineCode, e] of Object.entries(ENGINE_ERRORS)) t.truthy(ERRORS[e.code], engineCode);
});

const snapshot: EngineSnapshot = {
  version: 1,
  meshIp: '10.77.0.1',
  meshPrefix: '10.77.0.0/16',
  peers: [],
  trustMode: 'tofu',
  explicit: [],
  pins: [],
  gateway: false,
  gatewayBlocked: [],
  gatewayLanExplicit: false,
  relays: [],
};

/** The addon's own error, under the PimError binding.ts made of it. */
function engineCode(err: unknown): unknown {
  return isPimError(err) && err.cause instanceof Error ? (err.cause as Error & { code?: unknown }).code : undefined;
}

test('a call on an engine that is not running fails with the code engine_state, not in the message', (t) => {
  const engine = new NativeEngine();
  const err = t.throws(() => engine.applySnapshot(snapshot));
  t.is(engineCode(err), 'engine_state');
  t.is(err?.message, 'the engine is not running');
  t.true(isPimError(err) && err.code === ENGINE_ERRORS.engine_state.code);
});

test('a snapshot the engine cannot read fails with invalid_snapshot before anything is created', (t) => {
  const engine = new NativeEngine();
  const options = { privateKey: Buffer.alloc(32, 1), tunName: 'pimtest0', mtu: 1420, bindAddress: '127.0.0.1', listenPort: 0, fwmark: 0 };
  const bad = { ...snapshot, pins: [{ ip: '198.51.100.7:9100', nodeId: '0'.repeat(32) }] };
  const err = t.throws(() => engine.start(options, bad, () => undefined));
  t.is(engineCode(err), 'invalid_snapshot');
  t.regex(err?.message ?? '', /not an IP address \(no port\)/);
  t.false(engine.appliedVersion() > 0, 'nothing started');
});
