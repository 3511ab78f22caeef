//! Whether a handshake gets a session, sans-IO: the checks in their order
//! (docs/PROTOCOL.md §4.4), with what only the node knows (the replay memory,
//! the trust policy, who holds which mesh IP) injected through a `Verifier`,
//! as nebula's handshake machine takes its verifier. The same verdicts apply
//! to a response (`Tunnel::complete_handshake` takes the admission step).

use std::net::Ipv4Addr;

use super::endpoint::Endpoint;
use super::handshake::{self, HandshakeError, ReceivedInitiation, StaticKeys};
use super::low_order::is_low_order;
use super::tai64n::Tai64N;
use super::wire;

type PublicKey = [u8; 32];

/// Why a handshake got no session. Each maps to one drop counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// mac1 did not verify under our key: no Diffie-Hellman was done.
    BadMac,
    /// Noise refused the message (wrong keys, tampering, another version).
    Rejected,
    /// The sender's static key is a small-order point: it proves nothing.
    LowOrderKey,
    /// Not newer than the last initiation accepted from this key.
    Replay,
    /// The trust policy refuses this key from this source.
    Untrusted(PublicKey),
    /// The mesh IP the sender claims is not one it may have.
    MeshIpConflict(PublicKey, Ipv4Addr),
    /// A new key while the node holds as many peers that dialled in as it may.
    PeerLimit(PublicKey),
    /// The peer was removed while its handshake was being decided.
    Gone,
}

/// The node's side of the decision.
pub trait Verifier {
    /// What an admitted initiation sets up (the peer and its session index).
    type Admitted;
    /// Whether `timestamp` is newer than every initiation accepted from `key`
    /// (true for a key never seen).
    fn is_fresh(&self, key: &PublicKey, timestamp: Tai64N) -> bool;
    /// The trust verdict and the mesh-IP claim for a key Noise has proven.
    /// What is admitted is committed in the same step, so no concurrent
    /// change of policy or claims can slip in between decision and effect.
    fn admit(
        &self,
        key: &PublicKey,
        src: &Endpoint,
        mesh_ip: Ipv4Addr,
        timestamp: Tai64N,
    ) -> Result<Self::Admitted, Refusal>;
}

/// The one entry for a parsed initiation from `src`: mac1 (before any DH),
/// Noise, the key's order, freshness, then trust and the mesh-IP claim. On
/// success the caller answers with `ReceivedInitiation::respond`.
pub fn receive<V: Verifier>(
    keys: &StaticKeys,
    init: &wire::Initiation<'_>,
    src: &Endpoint,
    verifier: &V,
) -> Result<(ReceivedInitiation, V::Admitted), Refusal> {
    let received = handshake::receive_initiation(keys, init).map_err(|e| match e {
        HandshakeError::BadMac => Refusal::BadMac,
        HandshakeError::Rejected => Refusal::Rejected,
    })?;
    if is_low_order(&received.remote_public) {
        return Err(Refusal::LowOrderKey);
    }
    // A replay stops here, before it can cost policy work or raise events.
    if !verifier.is_fresh(&received.remote_public, received.timestamp) {
        return Err(Refusal::Replay);
    }
    let admitted = verifier.admit(
        &received.remote_public,
        src,
        received.mesh_ip,
        received.timestamp,
    )?;
    Ok((received, admitted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::{Message, INIT_LEN};
    use std::cell::Cell;

    /// Admits or refuses as told, and remembers what it was asked.
    struct Script {
        fresh: bool,
        verdict: Result<(), Refusal>,
        asked: Cell<Option<(PublicKey, Endpoint, Ipv4Addr)>>,
    }

    impl Verifier for Script {
        type Admitted = ();
        fn is_fresh(&self, _: &PublicKey, _: Tai64N) -> bool {
            self.fresh
        }
        fn admit(
            &self,
            key: &PublicKey,
            src: &Endpoint,
            ip: Ipv4Addr,
            _: Tai64N,
        ) -> Result<(), Refusal> {
            self.asked.set(Some((*key, *src, ip)));
            self.verdict
        }
    }

    const CLAIM: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

    fn initiation(from: &StaticKeys, to: &[u8; 32]) -> [u8; INIT_LEN] {
        let mut buf = [0u8; INIT_LEN];
        handshake::initiate(from, to, 7, Tai64N([1; 12]), CLAIM, &mut buf);
        buf
    }

    fn run(buf: &[u8], script: &Script) -> Result<(), Refusal> {
        let Ok(Message::Initiation(init)) = wire::parse(buf) else {
            panic!("not an initiation")
        };
        let me = StaticKeys::from_private([2; 32]);
        let src = Endpoint::Udp("198.18.0.1:9100".parse().unwrap());
        receive(&me, &init, &src, script).map(|_| ())
    }

    fn script(fresh: bool, verdict: Result<(), Refusal>) -> Script {
        Script {
            fresh,
            verdict,
            asked: Cell::new(None),
        }
    }

    #[test]
    fn an_initiation_is_checked_in_order_and_the_verifier_decides_last() {
        let a = StaticKeys::from_private([1; 32]);
        let me = StaticKeys::from_private([2; 32]).public;
        let good = initiation(&a, &me);
        let mut forged = good;
        forged[50] ^= 1;
        let untrusted = Err(Refusal::Untrusted(a.public));
        // (rule, datagram, verifier, outcome, whether the verifier was asked)
        type Case<'a> = (&'a str, &'a [u8], Script, Result<(), Refusal>, bool);
        let cases: [Case<'_>; 5] = [
            ("admitted", &good, script(true, Ok(())), Ok(()), true),
            (
                "mac1 first: no verifier work",
                &forged,
                script(true, Ok(())),
                Err(Refusal::BadMac),
                false,
            ),
            (
                "a replay is refused before trust",
                &good,
                script(false, Ok(())),
                Err(Refusal::Replay),
                false,
            ),
            (
                "the trust verdict is the verifier's",
                &good,
                script(true, untrusted),
                untrusted,
                true,
            ),
            (
                "so is the mesh-IP claim",
                &good,
                script(true, Err(Refusal::MeshIpConflict(a.public, CLAIM))),
                Err(Refusal::MeshIpConflict(a.public, CLAIM)),
                true,
            ),
        ];
        for (rule, buf, s, want, asked) in cases {
            assert_eq!(run(buf, &s), want, "{rule}");
            assert_eq!(s.asked.get().is_some(), asked, "{rule}");
            if let Some((key, _, ip)) = s.asked.get() {
                assert_eq!(
                    (key, ip),
                    (a.public, CLAIM),
                    "{rule}: asked about the proven key and claim"
                );
            }
        }
    }

    #[test]
    fn a_low_order_static_key_is_refused_after_noise_accepts_it() {
        let me = StaticKeys::from_private([2; 32]);
        let buf = testing::low_order_initiation(&me.public);
        let s = script(true, Ok(()));
        assert_eq!(run(&buf, &s), Err(Refusal::LowOrderKey));
        assert!(s.asked.get().is_none(), "never reaches the verifier");
    }
}

/// An initiation whose static key is the all-zero point. Nobody holds a
/// private key for it, but nobody needs one: `ss` is zero, so Noise accepts
/// it from anyone. snow derives public keys itself, so the test plays the
/// impostor with a Diffie-Hellman that claims the zero key.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::proto::wire::INIT_LEN;
    use snow::resolvers::{CryptoResolver, DefaultResolver};
    use snow::types::{Dh, Random};

    /// Any private key set to this plays the zero public key.
    const IMPOSTOR: [u8; 32] = [0xaa; 32];

    struct ImpostorDh {
        real: Box<dyn Dh>,
        impostor: bool,
    }

    impl Dh for ImpostorDh {
        fn name(&self) -> &'static str {
            self.real.name()
        }
        fn pub_len(&self) -> usize {
            32
        }
        fn priv_len(&self) -> usize {
            32
        }
        fn set(&mut self, privkey: &[u8]) {
            self.impostor = privkey == IMPOSTOR;
            self.real.set(privkey);
        }
        fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
            self.impostor = false;
            self.real.generate(rng)
        }
        fn pubkey(&self) -> &[u8] {
            if self.impostor {
                &[0; 32]
            } else {
                self.real.pubkey()
            }
        }
        fn privkey(&self) -> &[u8] {
            self.real.privkey()
        }
        fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
            if self.impostor {
                // What the responder computes with the zero key: zero.
                out[..32].fill(0);
                Ok(())
            } else {
                self.real.dh(pubkey, out)
            }
        }
    }

    struct Resolver;

    impl CryptoResolver for Resolver {
        fn resolve_rng(&self) -> Option<Box<dyn Random>> {
            DefaultResolver.resolve_rng()
        }
        fn resolve_dh(&self, choice: &snow::params::DHChoice) -> Option<Box<dyn Dh>> {
            Some(Box::new(ImpostorDh {
                real: DefaultResolver.resolve_dh(choice)?,
                impostor: false,
            }))
        }
        fn resolve_hash(
            &self,
            choice: &snow::params::HashChoice,
        ) -> Option<Box<dyn snow::types::Hash>> {
            DefaultResolver.resolve_hash(choice)
        }
        fn resolve_cipher(
            &self,
            choice: &snow::params::CipherChoice,
        ) -> Option<Box<dyn snow::types::Cipher>> {
            DefaultResolver.resolve_cipher(choice)
        }
    }

    pub fn low_order_initiation(to: &[u8; 32]) -> [u8; INIT_LEN] {
        let params = handshake::NOISE_PARAMS.parse().unwrap();
        let mut state = snow::Builder::with_resolver(params, Box::new(Resolver))
            .local_private_key(&IMPOSTOR)
            .and_then(|b| b.prologue(handshake::PROLOGUE))
            .and_then(|b| b.remote_public_key(to))
            .and_then(|b| b.build_initiator())
            .unwrap();
        let mut out = [0u8; INIT_LEN];
        wire::write_initiation_header(&mut out, 7);
        let mut payload = [0u8; wire::INIT_PAYLOAD_LEN];
        payload[..12].copy_from_slice(&Tai64N::from_system_time(std::time::SystemTime::now()).0);
        payload[12..].copy_from_slice(&[10, 77, 0, 9]);
        state
            .write_message(&payload, &mut out[8..8 + wire::INIT_NOISE_LEN])
            .unwrap();
        let mac =
            crate::proto::mac::Mac1Key::for_receiver(to).compute(&out[..INIT_LEN - wire::MAC_LEN]);
        out[INIT_LEN - wire::MAC_LEN..].copy_from_slice(&mac);
        out
    }
}
