// `pim peers pair` and `pim peers forget` as policy changes
// (ts/trust/pairing.ts): a pairing the engine refuses, or one the store
// cannot save, persists nothing and changes nothing; a peer reached through
// a relay pairs without an address; forget refuses an id with nothing to
// forget and says what would help. No root needed.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PolicyPort } from '../ts/daemon/policy.js';
import { PimError } from '../ts/errors.js';
import { createLogger } from '../ts/log/logger.js';
import type { PeerStatus } from '../ts/native/engine.js';
import { PeerBook } from '../ts/peers/book.js';
import { PairFailures } from '../ts/peers/failures.js';
import { RefusedAttempts } from '../ts/peers/refused.js';
import { Pairing } from '../ts/trust/pairing.js';
import { TrustStore } from '../ts/trust/store.js';
import { newPublicKey, nodeIdOf } from './helpers/keys.js';
import { tempDir } from './helpers/tmp.js';


/** A policy that runs changes as the real one does, and refuses the snapshot while `refuse` is set. */
class StubPolicy implements PolicyPort {
  refuse = false;
  applied = 0;
  refreshed = 0;
  async apply<T>(change: () => Promise<T> | T, undo?: () => void): Promise<T> {
    const result = await change();
    if (this.refuse) {
      undo?.();
      throw new PimError('engine_failed', 'mesh IP collision');
    }
    this.applied++;
    return result;
  }
  refresh(): void {
    this.refreshed++;
  }
}

async function world(t: ExecutionContext) {
  const dir = tempDir(t, 'pim-pairing-test-');
  const file = path.join(dir, 'trust.json');
  const store = await TrustStore.load(file);
  const engine: PeerStatus[] = [];
  const forgotten: string[] = [];
  const refused = new RefusedAttempts();
  const failures = new PairFailures();
  const book = new PeerBook(store, failures, refused);
  const policy = new StubPolicy();
  const pairing = new Pairing({
    store,
    refused,
    failures,
    engine: { peers: () => engine, forgetPeer: (k) => (forgotten.push(k), true) },
    resolve: (id, peers) => book.resolve(id, peers),
    policy,
    log: createLogger('fatal', { write: () => undefined }),
  });
  return { dir, file, store, engine, forgotten, refused, policy, pairing };
}

test('pair records the peer as paired at its address, saved, once the engine took the snapshot', async (t) => {
  const w = await world(t);
  const k = newPublicKey();
  w.refused.record(k, '198.18.0.5:9100', new Date());
  const r = await w.pairing.pair(nodeIdOf(k).slice(0, 8));
  t.is(r, nodeIdOf(k));
  t.is(w.policy.applied, 1);
  const saved = await TrustStore.load(w.file);
  t.like(saved.get(nodeIdOf(k)), { source: 'paired', endpoint: '198.18.0.5:9100' });
  t.deepEqual(w.refused.all, [], 'no longer listed as refused');
});

test('a pairing the engine refuses persists nothing and changes nothing in memory', async (t) => {
  const w = await world(t);
  const pinned = newPublicKey();
  w.store.set(pinned, '198.18.0.5:9100', 'tofu', new Date());
  await w.store.save();
  const before = fs.readFileSync(w.file, 'utf8');
  const k = newPublicKey();
  w.refused.record(k, '198.18.0.5:9100', new Date());
  w.policy.refuse = true;
  const err = await t.throwsAsync(w.pairing.pair(nodeIdOf(k)));
  t.regex(err!.message, /collision/);
  t.is(fs.readFileSync(w.file, 'utf8'), before, 'the store file is untouched');
  t.is(w.store.get(nodeIdOf(k)), undefined, 'not paired in memory either');
  t.like(w.store.get(nodeIdOf(pinned)), { source: 'tofu' }, 'the pin it would have displaced is back');
});

test('a pairing whose store cannot be written is undone and says so', async (t) => {
  const w = await world(t);
  const k = newPublicKey();
  w.refused.record(k, '198.18.0.5:9100', new Date());
  fs.mkdirSync(w.file); // a directory where the file goes: the write fails
  const err = await t.throwsAsync(w.pairing.pair(nodeIdOf(k)));
  t.true(err instanceof PimError);
  t.regex(err!.message, /cannot write the trust store .*nothing changed/);
  t.is(w.store.get(nodeIdOf(k)), undefined);
  t.is(w.policy.refreshed, 1, 'the engine gets the snapshot without the pairing again');
});

test('a peer reached through a relay pairs without an address (nothing to pin), and reloads fine', async (t) => {
  const w = await world(t);
  const k = newPublicKey();
  w.engine.push({ publicKey: k, meshIp: '10.77.0.9', endpoint: 'relay:0badcafe', via: newPublicKey(), state: 'active', configured: false, rxBytes: 0, txBytes: 0 });
  await w.pairing.pair(nodeIdOf(k));
  t.like((await TrustStore.load(w.file)).get(nodeIdOf(k)), { source: 'paired', endpoint: null });
});

test('pair refuses a low-order public key (all zeros), persisting nothing', async (t) => {
  const w = await world(t);
  const zero = '0'.repeat(64);
  w.refused.record(zero, '198.18.0.5:9100', new Date());
  const err = await t.throwsAsync(w.pairing.pair(nodeIdOf(zero)));
  t.is((err as PimError).code, 'invalid_params');
  t.regex(err!.message, /low-order/);
  t.false(fs.existsSync(w.file));
});

test('forget of a refused id with nothing pinned, paired or connected is refused, naming the pin to forget instead', async (t) => {
  const w = await world(t);
  const pinned = newPublicKey();
  w.store.set(pinned, '198.18.0.5:9100', 'tofu', new Date());
  const stranger = newPublicKey();
  w.refused.record(stranger, '198.18.0.5:40000', new Date());
  const err = await t.throwsAsync(w.pairing.forget(nodeIdOf(stranger).slice(0, 8)));
  t.is((err as PimError).code, 'peer_not_found');
  t.regex(err!.message, /has no pin, pairing or session to forget/);
  t.regex((err as PimError).hint ?? '', new RegExp(`pim peers forget ${nodeIdOf(pinned).slice(0, 8)}`));
  t.is(w.policy.applied, 0, 'no policy change');
  t.truthy(w.store.get(nodeIdOf(pinned)), 'the pin stays');
});

test('forget drops the pin and the session, saved', async (t) => {
  const w = await world(t);
  const k = newPublicKey();
  w.store.set(k, '198.18.0.5:9100', 'tofu', new Date());
  await w.store.save();
  await w.pairing.forget(nodeIdOf(k));
  t.deepEqual(w.forgotten, [k]);
  t.is((await TrustStore.load(w.file)).get(nodeIdOf(k)), undefined);
});

test('forget of a peer with only a session (dialled in, not yet pinned) ends the session', async (t) => {
  const w = await world(t);
  const k = newPublicKey();
  w.engine.push({ publicKey: k, meshIp: '10.77.0.9', endpoint: '198.18.0.6:9100', state: 'active', configured: false, rxBytes: 0, txBytes: 0 });
  await w.pairing.forget(nodeIdOf(k));
  t.deepEqual(w.forgotten, [k]);
});
