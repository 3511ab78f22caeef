//! mac1: a MAC over the handshake messages keyed by the receiver's static
//! public key (WireGuard's mac1, with HMAC-SHA256 instead of BLAKE2s).
//!
//! Only a sender that knows our public key can produce it, so random or forged
//! datagrams are rejected before any X25519 work. It is a DoS filter, not
//! authentication: the Noise handshake authenticates.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::wire::MAC_LEN;

const LABEL_MAC1: &[u8] = b"pim-mac1----";

/// The MAC key for datagrams sent *to* the owner of `public_key`.
#[derive(Clone)]
pub struct Mac1Key([u8; 32]);

impl Mac1Key {
    pub fn for_receiver(public_key: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(LABEL_MAC1);
        h.update(public_key);
        Mac1Key(h.finalize().into())
    }

    pub fn compute(&self, mac_input: &[u8]) -> [u8; MAC_LEN] {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        m.update(mac_input);
        let full = m.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// Constant-time comparison, so timing reveals nothing about the expected MAC.
    pub fn verify(&self, mac_input: &[u8], mac: &[u8; MAC_LEN]) -> bool {
        let expected = self.compute(mac_input);
        let diff = expected
            .iter()
            .zip(mac.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_its_own_mac_and_rejects_any_change() {
        let key = Mac1Key::for_receiver(&[7u8; 32]);
        let msg = b"handshake bytes";
        let mac = key.compute(msg);
        assert!(key.verify(msg, &mac));
        let mut bad = mac;
        bad[15] ^= 1;
        assert!(!key.verify(msg, &bad));
        assert!(!key.verify(b"handshake bytez", &mac));
        assert!(!Mac1Key::for_receiver(&[8u8; 32]).verify(msg, &mac));
    }
}
