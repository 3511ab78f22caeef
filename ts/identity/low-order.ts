// X25519 public keys that no honest key pair has: the points of small order
// (and their encodings with the unused top bit set). A Diffie-Hellman with
// one of them gives a result an attacker knows in advance, so pim refuses
// them everywhere a key enters: the config, pairing, the trust store (and
// the engine's handshake, in Rust).

const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Buffer.from(h, 'hex'));

/** True for a small-order point, whatever the top bit (X25519 ignores it). */
export function isLowOrderPublicKey(key: Buffer): boolean {
  if (key.length !== 32) return false;
  const masked = Buffer.from(key);
  masked[31]! &= 0x7f;
  return SMALL_ORDER.some((p) => p.equals(masked));
}

export const LOW_ORDER_MESSAGE = 'is a low-order X25519 point (such as all zeros) that no real key pair has; copy the peer\'s x25519_pubkey from `pim id` again';
