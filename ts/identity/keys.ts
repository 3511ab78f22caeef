import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PimError } from '../errors.js';

// The key file holds the 32 raw bytes of the node's X25519 private key and
// nothing else. Its bytes never appear in logs or error messages.

export const KEY_LEN = 32;

// DER header of a PKCS#8 X25519 private key (RFC 8410); the raw key follows it.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface KeyFile {
  privateKey: Buffer;
  publicKey: Buffer;
  /** True when this call generated the key (first start). */
  created: boolean;
}

export function publicKeyFromPrivate(raw: Buffer): Buffer {
  if (raw.length !== KEY_LEN) throw new RangeError(`an X25519 private key is ${KEY_LEN} bytes, got ${raw.length}`);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - KEY_LEN);
}

export function generatePrivateKey(): Buffer {
  const der = generateKeyPairSync('x25519').privateKey.export({ format: 'der', type: 'pkcs8' });
  // Guard against a future OpenSSL emitting optional PKCS#8 fields, which would
  // make "the last 32 bytes" something other than the key.
  const prefix = der.subarray(0, PKCS8_X25519_PREFIX.length);
  if (der.length !== PKCS8_X25519_PREFIX.length + KEY_LEN || !prefix.equals(PKCS8_X25519_PREFIX)) {
    throw new Error('unexpected PKCS#8 encoding of a generated X25519 key');
  }
  return Buffer.from(der.subarray(PKCS8_X25519_PREFIX.length));
}

/** Reads the node's private key, generating and storing one on first use. */
export function loadOrCreateKeyFile(keyPath: string): KeyFile {
  const existing = readKeyFile(keyPath);
  if (existing !== null) return keyFile(existing, false);
  const fresh = generatePrivateKey();
  if (writeKeyFileExclusive(keyPath, fresh)) {
    return keyFile(fresh, true);
  }
  // Something took the path first: most likely another process (a second
  // `pim id`, say) that stored its key, which is then the identity; ours was
  // never visible to anyone.
  const winner = readKeyFile(keyPath);
  if (winner === null) {
    throw new PimError(
      'key_file_invalid',
      `${keyPath}: something that cannot be opened is in the way (a dangling symbolic link?)`,
      { hint: `remove ${keyPath} or set security.key_file to another path` },
    );
  }
  return keyFile(winner, false);
}

function keyFile(privateKey: Buffer, created: boolean): KeyFile {
  return { privateKey, publicKey: publicKeyFromPrivate(privateKey), created };
}

/** The raw key, or null when the file does not exist. */
function readKeyFile(keyPath: string): Buffer | null {
  let fd: number;
  try {
    // O_NONBLOCK so that a FIFO at the path is rejected below instead of
    // hanging the open until a writer appears.
    fd = fs.openSync(keyPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw unreadable(keyPath, err);
  }
  try {
    // fstat on the open descriptor: the checks apply to the very file we read.
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      throw new PimError('key_file_invalid', `${keyPath}: not a regular file (found ${fileKind(st)})`, {
        hint: 'point security.key_file at a file path, or remove what is there so a key can be created',
      });
    }
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new PimError(
        'key_file_invalid',
        `${keyPath}: permissions ${octal(mode)} are too open; the private key must be readable by its owner only`,
        { hint: `chmod 600 ${keyPath}` },
      );
    }
    if (st.size !== KEY_LEN) {
      throw new PimError(
        'key_file_invalid',
        `${keyPath}: expected ${KEY_LEN} raw bytes, found ${st.size}${encodingGuess(st.size)}`,
        {
          hint:
            'the key file holds the raw 32-byte X25519 private key; ' +
            'move this file aside to create a new identity (this changes the node_id)',
        },
      );
    }
    const key = Buffer.alloc(KEY_LEN);
    const n = fs.readSync(fd, key, 0, KEY_LEN, 0);
    if (n !== KEY_LEN) {
      throw new PimError('key_file_invalid', `${keyPath}: expected ${KEY_LEN} raw bytes, could read only ${n}`);
    }
    return key;
  } catch (err) {
    if (err instanceof PimError) throw err;
    throw unreadable(keyPath, err);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Stores the key so that the path either does not exist or holds the whole
 * key, never a partial one. Returns false if a key file appeared meanwhile.
 */
function writeKeyFileExclusive(keyPath: string, key: Buffer): boolean {
  const dir = path.dirname(keyPath);
  const tmp = path.join(dir, `.${path.basename(keyPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let tmpCreated = false;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    tmpCreated = true;
    try {
      // The umask may only narrow the mode, but set it exactly anyway so the
      // read-side check never rejects a file we wrote ourselves.
      fs.fchmodSync(fd, 0o600);
      fs.writeSync(fd, key, 0, key.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // link() instead of rename(): both are atomic, but link refuses to replace
    // an existing file, so a concurrent first start cannot silently swap the
    // identity that another process has already handed out.
    try {
      fs.linkSync(tmp, keyPath);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    }
    fsyncDir(dir);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
    throw new PimError('io_failed', `cannot create key file ${keyPath}: ${systemMessage(err)}`, {
      hint: denied ? `run as a user that may write ${dir}, or set security.key_file to a writable path` : undefined,
      cause: err,
    });
  } finally {
    if (tmpCreated) removeQuietly(tmp);
  }
}

// A leftover temp file is owner-only and harmless; failing to remove it must
// not hide whether the key itself was stored.
function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // nothing useful to do
  }
}

// Makes the new directory entry itself durable, not just the file's bytes.
function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function unreadable(keyPath: string, err: unknown): PimError {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') {
    return new PimError('key_file_invalid', `${keyPath}: permission denied reading the key file`, {
      hint: 'run pim as the user that owns the key file (or as root)',
      cause: err,
    });
  }
  return new PimError('key_file_invalid', `${keyPath}: cannot read the key file: ${systemMessage(err)}`, {
    cause: err,
  });
}

// The sizes a hand-made key file usually has when it is text, not raw bytes.
function encodingGuess(size: number): string {
  if (size === 44 || size === 45) return ' (is it base64?)';
  if (size === 64 || size === 65) return ' (is it hex?)';
  return '';
}

function fileKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'an unknown file type';
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

function systemMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
