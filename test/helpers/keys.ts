// Keys for tests: real identities where the code under test checks them, and
// deterministic stand-ins where it only compares them.

import { createHash } from 'node:crypto';
import { identityFromPrivateKey, type Identity } from '../../ts/identity/identity.js';
import { generatePrivateKey } from '../../ts/identity/keys.js';
import { nodeIdFromPublicKey } from '../../ts/identity/node-id.js';

/** A fresh identity from a new random private key. */
export const newIdentity = (): Identity => identityFromPrivateKey(generatePrivateKey());

/** The public key (64 hex) of a fresh identity. */
export const newPublicKey = (): string => newIdentity().publicKeyHex;

/** A deterministic 64-hex "public key" from a seed, for code that never checks keys are on the curve (routing tables, wire formats). */
export const seededKey = (seed: string): string => createHash('sha256').update(seed).digest('hex');

/** The node_id of a 64-hex public key. */
export const nodeIdOf = (publicKeyHex: string): string => nodeIdFromPublicKey(Buffer.from(publicKeyHex, 'hex'));
