import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { PimError } from '../ts/errors.js';
import { identityFromPrivateKey, loadIdentity } from '../ts/identity/identity.js';
import { generatePrivateKey, loadOrCreateKeyFile, publicKeyFromPrivate } from '../ts/identity/keys.js';
import { matchIdPrefix, nodeIdFromPublicKey, parsePublicKeyHex, shortId } from '../ts/identity/node-id.js';
import { nonRootTest } from './helpers/root.js';
import { tempDir } from './helpers/tmp.js';

// RFC 7748 §6.1, Alice's key pair.
const RFC_PRIVATE = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
const RFC_PUBLIC_HEX = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
// `printf %s <RFC_PUBLIC_HEX> | xxd -r -p | sha256sum`, first 32 hex digits.
const RFC_NODE_ID = '300c9c9603b92a4b39ed3958bf924011';

function keyFileError(t: import('ava').ExecutionContext, file: string): PimError {
  const err = t.throws(() => loadOrCreateKeyFile(file), { instanceOf: PimError });
  t.is(err?.code, 'key_file_invalid');
  t.true(err?.message.includes(file), `message names the path: ${err?.message}`);
  return err as PimError;
}

test('a missing key file is created 0600 with 32 bytes, in a new 0700 directory, and is stable', (t) => {
  const dir = path.join(tempDir(t), 'nested', 'pim');
  const file = path.join(dir, 'node.key');
  const first = loadOrCreateKeyFile(file);
  t.true(first.created);
  const st = fs.statSync(file);
  t.true(st.isFile());
  t.is(st.mode & 0o777, 0o600);
  t.is(st.size, 32);
  t.is(fs.statSync(dir).mode & 0o777, 0o700);
  t.deepEqual(fs.readFileSync(file), first.privateKey);
  t.deepEqual(fs.readdirSync(dir), ['node.key'], 'no temp file left behind');

  const second = loadOrCreateKeyFile(file);
  t.false(second.created);
  t.deepEqual(second.privateKey, first.privateKey);
  t.deepEqual(second.publicKey, first.publicKey);
});

test('an existing 32-byte 0600 key file is used as is', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, RFC_PRIVATE, { mode: 0o600 });
  const key = loadOrCreateKeyFile(file);
  t.false(key.created);
  t.is(key.publicKey.toString('hex'), RFC_PUBLIC_HEX);
});

test('a 0400 key file is accepted', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, RFC_PRIVATE, { mode: 0o400 });
  t.is(loadOrCreateKeyFile(file).publicKey.toString('hex'), RFC_PUBLIC_HEX);
});

test('a base64 key file is refused with its size and a guess', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, RFC_PRIVATE.toString('base64'), { mode: 0o600 });
  const err = keyFileError(t, file);
  t.is(err.message, `${file}: expected 32 raw bytes, found 44 (is it base64?)`);
});

test('a key file of another size is refused', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, Buffer.alloc(31), { mode: 0o600 });
  const err = keyFileError(t, file);
  t.is(err.message, `${file}: expected 32 raw bytes, found 31`);
});

test('a key file readable by group or others is refused with a chmod hint', (t) => {
  for (const mode of [0o644, 0o640, 0o604, 0o610]) {
    const file = path.join(tempDir(t), 'node.key');
    fs.writeFileSync(file, RFC_PRIVATE);
    fs.chmodSync(file, mode);
    const err = keyFileError(t, file);
    t.true(err.message.includes('0' + mode.toString(8)), err.message);
    t.is(err.hint, `chmod 600 ${file}`);
  }
});

test('a directory at the key path is refused', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.mkdirSync(file);
  const err = keyFileError(t, file);
  t.regex(err.message, /not a regular file \(found a directory\)/);
});

test('a named pipe at the key path is refused without blocking', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  // mkfifo has no node:fs API; skip where the tool is missing.
  if (spawnSync('mkfifo', ['-m', '600', file]).status !== 0) {
    t.pass('mkfifo unavailable');
    return;
  }
  const err = keyFileError(t, file);
  t.regex(err.message, /found a named pipe/);
});

nonRootTest('an unreadable key file gets a permission message', 'root reads any file', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, RFC_PRIVATE);
  fs.chmodSync(file, 0o200);
  const err = keyFileError(t, file);
  t.regex(err.message, /permission denied/);
  t.truthy(err.hint);
});

test('an uncreatable key file is an io_failed error naming the path', (t) => {
  // The temp file's name is longer than the key file's, so this key name fits
  // but its temp file does not, even for root.
  const file = path.join(tempDir(t), 'k'.repeat(240));
  const err = t.throws(() => loadOrCreateKeyFile(file), { instanceOf: PimError });
  t.is(err?.code, 'io_failed');
  t.true(err?.message.includes(file));
  t.deepEqual(fs.readdirSync(path.dirname(file)), [], 'no temp file left behind');
});

nonRootTest('a key file in a directory the user cannot write is an io_failed error with a hint', 'root writes any directory', (t) => {
  const dir = tempDir(t);
  fs.chmodSync(dir, 0o500);
  const file = path.join(dir, 'node.key');
  const err = t.throws(() => loadOrCreateKeyFile(file), { instanceOf: PimError });
  t.is(err?.code, 'io_failed');
  t.true(err?.message.includes(file));
  t.truthy(err?.hint);
});

test('a dangling symbolic link at the key path is refused, not followed or replaced', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'node.key');
  fs.symlinkSync(path.join(dir, 'missing'), file);
  const err = keyFileError(t, file);
  t.regex(err.message, /dangling symbolic link/);
  t.false(fs.existsSync(path.join(dir, 'missing')));
  t.deepEqual(fs.readdirSync(dir), ['node.key']);
});

test('a symbolic link to a valid key file is followed', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'real.key'), RFC_PRIVATE, { mode: 0o600 });
  fs.symlinkSync('real.key', path.join(dir, 'node.key'));
  t.is(loadOrCreateKeyFile(path.join(dir, 'node.key')).publicKey.toString('hex'), RFC_PUBLIC_HEX);
});

test('error messages never contain key bytes', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, RFC_PRIVATE);
  fs.chmodSync(file, 0o644);
  const err = keyFileError(t, file);
  const text = `${err.message} ${err.hint ?? ''}`;
  t.false(text.includes(RFC_PRIVATE.toString('hex')));
  t.false(text.includes(RFC_PRIVATE.toString('base64')));
});

test('publicKeyFromPrivate matches RFC 7748 and generateKeyPairSync', (t) => {
  t.is(publicKeyFromPrivate(RFC_PRIVATE).toString('hex'), RFC_PUBLIC_HEX);
  for (let i = 0; i < 5; i++) {
    const pair = generateKeyPairSync('x25519');
    const raw = pair.privateKey.export({ format: 'jwk' }).d!;
    const pub = pair.publicKey.export({ format: 'jwk' }).x!;
    t.deepEqual(publicKeyFromPrivate(Buffer.from(raw, 'base64url')), Buffer.from(pub, 'base64url'));
  }
});

test('generatePrivateKey yields distinct 32-byte keys', (t) => {
  const a = generatePrivateKey();
  const b = generatePrivateKey();
  t.is(a.length, 32);
  t.notDeepEqual(a, b);
});

test('node_id is the first 16 bytes of SHA-256 of the public key', (t) => {
  const pub = Buffer.from(RFC_PUBLIC_HEX, 'hex');
  t.is(nodeIdFromPublicKey(pub), RFC_NODE_ID);
  t.is(RFC_NODE_ID, createHash('sha256').update(pub).digest('hex').slice(0, 32));
  t.is(shortId(RFC_NODE_ID), '300c9c96');
});

test('parsePublicKeyHex accepts only 64 lowercase hex', (t) => {
  t.deepEqual(parsePublicKeyHex(RFC_PUBLIC_HEX), Buffer.from(RFC_PUBLIC_HEX, 'hex'));
  t.is(parsePublicKeyHex(RFC_PUBLIC_HEX.toUpperCase()), null);
  t.is(parsePublicKeyHex(RFC_PUBLIC_HEX.slice(2)), null);
  t.is(parsePublicKeyHex(RFC_PUBLIC_HEX + '00'), null);
  t.is(parsePublicKeyHex(RFC_PUBLIC_HEX.slice(1) + 'g'), null);
  t.is(parsePublicKeyHex(Buffer.from(RFC_PUBLIC_HEX, 'hex').toString('base64')), null);
});

test('matchIdPrefix', (t) => {
  const ids = ['300c9c9603b92a4b39ed3958bf924011', '300c9c96ffffffffffffffffffffffff', 'abcdef0123456789abcdef0123456789'];
  t.deepEqual(matchIdPrefix('abcdef01', ids), { match: ids[2] });
  t.deepEqual(matchIdPrefix('ABCDEF0123', ids), { match: ids[2] });
  t.deepEqual(matchIdPrefix(ids[0]!, ids), { match: ids[0] });
  t.deepEqual(matchIdPrefix('300c9c960', ids), { match: ids[0] });
  t.deepEqual(matchIdPrefix('300c9c96', ids), { error: 'ambiguous' });
  t.deepEqual(matchIdPrefix('abcdef0', ids), { error: 'too_short' });
  t.deepEqual(matchIdPrefix('', ids), { error: 'too_short' });
  t.deepEqual(matchIdPrefix('12345678', ids), { error: 'none' });
  t.deepEqual(matchIdPrefix(ids[0]! + '0', ids), { error: 'none' });
  t.deepEqual(matchIdPrefix('abcdef01', [ids[2]!, ids[2]!]), { match: ids[2] }, 'a duplicate is not ambiguous');
});

test('loadIdentity builds the whole identity and remembers whether it created the key', (t) => {
  const file = path.join(tempDir(t), 'node.key');
  fs.writeFileSync(file, RFC_PRIVATE, { mode: 0o600 });
  const id = loadIdentity(file);
  t.false(id.created);
  t.deepEqual(id.privateKey, RFC_PRIVATE);
  t.is(id.publicKeyHex, RFC_PUBLIC_HEX);
  t.is(id.nodeId, RFC_NODE_ID);
  t.is(id.shortId, '300c9c96');

  const fresh = loadIdentity(path.join(tempDir(t), 'node.key'));
  t.true(fresh.created);
  t.is(fresh.nodeId, nodeIdFromPublicKey(fresh.publicKey));
});

test('the identity never prints its private key', (t) => {
  const id = identityFromPrivateKey(RFC_PRIVATE);
  t.deepEqual(id.privateKey, RFC_PRIVATE);
  const secrets = [RFC_PRIVATE.toString('hex'), RFC_PRIVATE.toString('base64'), '77 07 6d 0a', '119, 7, 109'];
  const renderings = [
    JSON.stringify(id),
    JSON.stringify({ nested: { id } }),
    inspect(id),
    inspect({ nested: { id } }, { depth: 5 }),
    inspect(id, { showHidden: true }),
    JSON.stringify({ ...id }),
    Object.keys(id).join(','),
  ];
  for (const text of renderings) {
    for (const secret of secrets) t.false(text.includes(secret), text);
  }
  t.true(JSON.stringify(id).includes(RFC_NODE_ID));
  t.true(inspect(id).includes('[redacted]'));
});
