//! X25519 public keys of small order. Diffie-Hellman with one of them gives
//! the all-zero secret whatever the other side's private key, so a "static
//! key" like that proves nothing: anyone can complete a handshake as it.
//! snow does not refuse them, so pim does, wherever a key enters (handshakes
//! and snapshots).

/// The seven small-order u-coordinates of Curve25519 (libsodium's list):
/// 0, 1, two points of order 8, p − 1, p and p + 1. Bit 255 is ignored by
/// X25519, so it is ignored here too.
const SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    p_plus(0xec),
    p_plus(0xed),
    p_plus(0xee),
];

/// p − 1, p and p + 1 (p = 2^255 − 19), little-endian: only byte 0 differs.
const fn p_plus(low: u8) -> [u8; 32] {
    let mut k = [0xff; 32];
    k[0] = low;
    k[31] = 0x7f;
    k
}

/// Whether `key` is a small-order point, which no honest node has as its key.
pub fn is_low_order(key: &[u8; 32]) -> bool {
    SMALL_ORDER
        .iter()
        .any(|bad| bad[..31] == key[..31] && bad[31] == key[31] & 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::handshake::x25519_public;
    use snow::resolvers::{CryptoResolver, DefaultResolver};

    fn shared_secret(private: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
        let mut dh = DefaultResolver
            .resolve_dh(&snow::params::DHChoice::Curve25519)
            .unwrap();
        dh.set(private);
        let mut out = [0u8; 32];
        dh.dh(public, &mut out).unwrap();
        out
    }

    #[test]
    fn every_listed_key_gives_the_all_zero_secret_and_is_refused() {
        for (i, bad) in SMALL_ORDER.iter().enumerate() {
            for seed in [1u8, 0x5a, 0xfe] {
                assert_eq!(shared_secret(&[seed; 32], bad), [0; 32], "point {i}");
            }
            assert!(is_low_order(bad), "point {i}");
            let mut high = *bad;
            high[31] |= 0x80;
            assert!(is_low_order(&high), "point {i} with bit 255 set");
        }
    }

    #[test]
    fn real_keys_are_not_low_order() {
        for seed in 1..=50u8 {
            assert!(!is_low_order(&x25519_public(&[seed; 32])), "seed {seed}");
        }
    }
}
