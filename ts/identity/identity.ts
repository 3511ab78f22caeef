import { inspect, type InspectOptions } from 'node:util';
import { loadOrCreateKeyFile, publicKeyFromPrivate } from './keys.js';
import { nodeIdFromPublicKey, shortId } from './node-id.js';

export interface Identity {
  privateKey: Buffer;
  publicKey: Buffer;
  /** 64 lowercase hex, as shown to users and put in configs. */
  publicKeyHex: string;
  nodeId: string;
  shortId: string;
}

export type LoadedIdentity = Identity & { created: boolean };

const REDACTED = '[redacted]';

// The identity travels through the daemon (into logs via pino, into RPC
// results, into error reports). The private key is non-enumerable and the
// object renders itself without it, so no accidental dump reveals it.
class RedactedIdentity implements Identity {
  declare readonly privateKey: Buffer;
  readonly publicKey: Buffer;
  readonly publicKeyHex: string;
  readonly nodeId: string;
  readonly shortId: string;

  constructor(privateKey: Buffer, publicKey: Buffer) {
    Object.defineProperty(this, 'privateKey', { value: privateKey, enumerable: false, writable: false });
    this.publicKey = publicKey;
    this.publicKeyHex = publicKey.toString('hex');
    this.nodeId = nodeIdFromPublicKey(publicKey);
    this.shortId = shortId(this.nodeId);
  }

  private visible(): Record<string, string> {
    return { nodeId: this.nodeId, shortId: this.shortId, publicKeyHex: this.publicKeyHex, privateKey: REDACTED };
  }

  toJSON(): Record<string, string> {
    return this.visible();
  }

  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `Identity ${inspect(this.visible(), options)}`;
  }
}

/** The identity behind a raw private key, for nodes that have no key file (tests, the lab). */
export function identityFromPrivateKey(privateKey: Buffer): Identity {
  return new RedactedIdentity(privateKey, publicKeyFromPrivate(privateKey));
}

/** The node's identity from its key file, creating the file on first use. */
export function loadIdentity(keyFile: string): LoadedIdentity {
  const { privateKey, publicKey, created } = loadOrCreateKeyFile(keyFile);
  return Object.assign(new RedactedIdentity(privateKey, publicKey), { created });
}
