//! The Noise IK handshake (`Noise_IK_25519_ChaChaPoly_SHA256`, via snow) in
//! pim's framing: message 1 (initiation) and message 2 (response), each with
//! a mac1 keyed by the receiver's static public key (docs/PROTOCOL.md §4).
//!
//! Initiation payload: TAI64N timestamp (12) + sender's mesh IPv4 (4); the
//! responder only accepts a timestamp newer than the last one from the same
//! key, so a replayed initiation creates nothing. Response payload: the
//! responder's mesh IPv4 (4).

use std::net::Ipv4Addr;

use super::mac::Mac1Key;
use super::session::Session;
use super::tai64n::Tai64N;
use super::wire::{self, INIT_LEN, INIT_NOISE_LEN, MAC_LEN, RESP_LEN, RESP_NOISE_LEN};

pub const NOISE_PARAMS: &str = "Noise_IK_25519_ChaChaPoly_SHA256";
/// Bound into every handshake hash: a peer speaking another protocol
/// version fails the handshake instead of misreading it.
pub const PROLOGUE: &[u8] = b"pim protocol v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// mac1 did not verify: not addressed to our key, or forged. No DH was done.
    BadMac,
    /// Noise rejected the message: wrong keys, tampering, or another protocol version.
    Rejected,
}

/// This node's static identity. `Debug` never prints the private key.
pub struct StaticKeys {
    private: [u8; 32],
    pub public: [u8; 32],
    mac1: Mac1Key,
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeys")
            .field("private", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn params() -> snow::params::NoiseParams {
    NOISE_PARAMS
        .parse()
        .expect("the pim Noise pattern name is valid")
}

/// Every pim handshake state starts here: the suite, our static key and a
/// prologue (pim's own, or a test vector's).
pub(crate) fn noise_builder<'a>(
    local_private: &'a [u8; 32],
    prologue: &'a [u8],
) -> snow::Builder<'a> {
    snow::Builder::new(params())
        .local_private_key(local_private)
        .and_then(|b| b.prologue(prologue))
        .expect("static key and prologue have valid lengths")
}

impl StaticKeys {
    pub fn from_private(private: [u8; 32]) -> Self {
        let public = x25519_public(&private);
        StaticKeys {
            private,
            public,
            mac1: Mac1Key::for_receiver(&public),
        }
    }

    /// The mac1 key peers use when sending to us.
    pub fn own_mac1(&self) -> &Mac1Key {
        &self.mac1
    }

    fn builder(&self) -> snow::Builder<'_> {
        noise_builder(&self.private, PROLOGUE)
    }
}

/// The X25519 public key of a private key (Noise's DH, so clamping matches).
pub fn x25519_public(private: &[u8; 32]) -> [u8; 32] {
    use snow::resolvers::{CryptoResolver, DefaultResolver};
    let mut dh = DefaultResolver
        .resolve_dh(&snow::params::DHChoice::Curve25519)
        .expect("the default resolver has X25519");
    dh.set(private);
    let mut public = [0u8; 32];
    public.copy_from_slice(dh.pubkey());
    public
}

/// Our side of a handshake we started, waiting for the response.
pub struct Initiation {
    state: snow::HandshakeState,
    pub local_index: u32,
}

/// Builds message 1 into `out`.
pub fn initiate(
    local: &StaticKeys,
    remote_public: &[u8; 32],
    local_index: u32,
    timestamp: Tai64N,
    mesh_ip: Ipv4Addr,
    out: &mut [u8; INIT_LEN],
) -> Initiation {
    let mut state = local
        .builder()
        .remote_public_key(remote_public)
        .and_then(|b| b.build_initiator())
        .expect("a 32-byte remote key builds an IK initiator");
    let mut payload = [0u8; wire::INIT_PAYLOAD_LEN];
    payload[..12].copy_from_slice(&timestamp.0);
    payload[12..].copy_from_slice(&mesh_ip.octets());
    wire::write_initiation_header(out, local_index);
    let n = state
        .write_message(&payload, &mut out[8..8 + INIT_NOISE_LEN])
        .expect("message 1 fits its fixed buffer");
    debug_assert_eq!(n, INIT_NOISE_LEN);
    let mac = Mac1Key::for_receiver(remote_public).compute(&out[..INIT_LEN - MAC_LEN]);
    out[INIT_LEN - MAC_LEN..].copy_from_slice(&mac);
    Initiation { state, local_index }
}

/// What the initiator learns from a valid response.
pub struct Completed {
    pub session: Session,
    pub remote_mesh_ip: Ipv4Addr,
}

impl Initiation {
    /// Consumes message 2. The caller has matched `receiver_index` to us and
    /// verified mac1 with our own key.
    pub fn complete(
        mut self,
        resp: &wire::Response<'_>,
        now: std::time::Instant,
    ) -> Result<Completed, HandshakeError> {
        let mut payload = [0u8; RESP_NOISE_LEN];
        let n = self
            .state
            .read_message(resp.noise, &mut payload)
            .map_err(|_| HandshakeError::Rejected)?;
        if n != wire::RESP_PAYLOAD_LEN {
            return Err(HandshakeError::Rejected);
        }
        let remote_mesh_ip = Ipv4Addr::new(payload[0], payload[1], payload[2], payload[3]);
        let transport = self
            .state
            .into_stateless_transport_mode()
            .map_err(|_| HandshakeError::Rejected)?;
        Ok(Completed {
            session: Session::new(transport, self.local_index, resp.sender_index, true, now),
            remote_mesh_ip,
        })
    }
}

/// A verified message 1, before the policy decides whether to answer it.
pub struct ReceivedInitiation {
    state: snow::HandshakeState,
    pub remote_public: [u8; 32],
    pub sender_index: u32,
    pub timestamp: Tai64N,
    pub mesh_ip: Ipv4Addr,
}

impl std::fmt::Debug for ReceivedInitiation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedInitiation")
            .field("sender_index", &self.sender_index)
            .finish_non_exhaustive()
    }
}

/// Checks mac1 (no DH) and then runs the Noise responder over message 1.
pub fn receive_initiation(
    local: &StaticKeys,
    init: &wire::Initiation<'_>,
) -> Result<ReceivedInitiation, HandshakeError> {
    if !local.mac1.verify(init.mac_input, init.mac1) {
        return Err(HandshakeError::BadMac);
    }
    let mut state = local
        .builder()
        .build_responder()
        .expect("an IK responder always builds");
    let mut payload = [0u8; INIT_NOISE_LEN];
    let n = state
        .read_message(init.noise, &mut payload)
        .map_err(|_| HandshakeError::Rejected)?;
    if n != wire::INIT_PAYLOAD_LEN {
        return Err(HandshakeError::Rejected);
    }
    let remote_public: [u8; 32] = state
        .get_remote_static()
        .and_then(|s| s.try_into().ok())
        .ok_or(HandshakeError::Rejected)?;
    let mut ts = [0u8; 12];
    ts.copy_from_slice(&payload[..12]);
    Ok(ReceivedInitiation {
        state,
        remote_public,
        sender_index: init.sender_index,
        timestamp: Tai64N(ts),
        mesh_ip: Ipv4Addr::new(payload[12], payload[13], payload[14], payload[15]),
    })
}

impl ReceivedInitiation {
    /// Writes message 2 into `out` and returns the responder's session.
    pub fn respond(
        mut self,
        local_index: u32,
        mesh_ip: Ipv4Addr,
        now: std::time::Instant,
        out: &mut [u8; RESP_LEN],
    ) -> Session {
        wire::write_response_header(out, local_index, self.sender_index);
        let n = self
            .state
            .write_message(&mesh_ip.octets(), &mut out[12..12 + RESP_NOISE_LEN])
            .expect("message 2 fits its fixed buffer");
        debug_assert_eq!(n, RESP_NOISE_LEN);
        let mac = Mac1Key::for_receiver(&self.remote_public).compute(&out[..RESP_LEN - MAC_LEN]);
        out[RESP_LEN - MAC_LEN..].copy_from_slice(&mac);
        let transport = self
            .state
            .into_stateless_transport_mode()
            .expect("IK is complete after message 2");
        Session::new(transport, local_index, self.sender_index, false, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::Message;
    use std::time::Instant;

    fn keys(seed: u8) -> StaticKeys {
        StaticKeys::from_private([seed; 32])
    }

    fn init_bytes(a: &StaticKeys, b_pub: &[u8; 32]) -> ([u8; INIT_LEN], Initiation) {
        let mut buf = [0u8; INIT_LEN];
        let ini = initiate(
            a,
            b_pub,
            11,
            Tai64N([1; 12]),
            Ipv4Addr::new(10, 77, 0, 1),
            &mut buf,
        );
        (buf, ini)
    }

    fn as_init(buf: &[u8]) -> wire::Initiation<'_> {
        match wire::parse(buf) {
            Ok(Message::Initiation(i)) => i,
            other => panic!("not an initiation: {other:?}"),
        }
    }

    fn as_resp(buf: &[u8]) -> wire::Response<'_> {
        match wire::parse(buf) {
            Ok(Message::Response(r)) => r,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn full_handshake_yields_matching_sessions_and_mesh_ips() {
        let (a, b) = (keys(1), keys(2));
        let now = Instant::now();
        let (buf, ini) = init_bytes(&a, &b.public);
        let got = receive_initiation(&b, &as_init(&buf)).unwrap();
        assert_eq!(got.remote_public, a.public);
        assert_eq!(got.sender_index, 11);
        assert_eq!(got.timestamp, Tai64N([1; 12]));
        assert_eq!(got.mesh_ip, Ipv4Addr::new(10, 77, 0, 1));
        let mut resp = [0u8; RESP_LEN];
        let b_session = got.respond(22, Ipv4Addr::new(10, 77, 0, 2), now, &mut resp);
        let r = as_resp(&resp);
        assert!(a.own_mac1().verify(r.mac_input, r.mac1));
        let done = ini.complete(&r, now).unwrap();
        assert_eq!(done.remote_mesh_ip, Ipv4Addr::new(10, 77, 0, 2));
        assert_eq!(
            (done.session.local_index, done.session.remote_index),
            (11, 22)
        );
        assert_eq!((b_session.local_index, b_session.remote_index), (22, 11));
    }

    #[test]
    fn initiation_to_the_wrong_key_fails_mac1_before_any_dh() {
        let (a, b, c) = (keys(1), keys(2), keys(3));
        let (buf, _) = init_bytes(&a, &c.public);
        assert_eq!(
            receive_initiation(&b, &as_init(&buf)).unwrap_err(),
            HandshakeError::BadMac
        );
    }

    #[test]
    fn tampered_initiation_is_rejected() {
        let (a, b) = (keys(1), keys(2));
        let (mut buf, _) = init_bytes(&a, &b.public);
        buf[40] ^= 0x80;
        // The MAC covers the bytes, so a flip is caught before Noise…
        assert_eq!(
            receive_initiation(&b, &as_init(&buf)).unwrap_err(),
            HandshakeError::BadMac
        );
        // …and a forger who recomputes mac1 still fails Noise's AEAD.
        let mac = Mac1Key::for_receiver(&b.public).compute(&buf[..INIT_LEN - MAC_LEN]);
        buf[INIT_LEN - MAC_LEN..].copy_from_slice(&mac);
        assert_eq!(
            receive_initiation(&b, &as_init(&buf)).unwrap_err(),
            HandshakeError::Rejected
        );
    }

    #[test]
    fn tampered_or_foreign_response_is_rejected() {
        let (a, b) = (keys(1), keys(2));
        let now = Instant::now();
        let respond_to = |buf: &[u8]| {
            let mut resp = [0u8; RESP_LEN];
            receive_initiation(&b, &as_init(buf)).unwrap().respond(
                22,
                Ipv4Addr::new(10, 77, 0, 2),
                now,
                &mut resp,
            );
            resp
        };
        let (buf, ini) = init_bytes(&a, &b.public);
        let mut resp = respond_to(&buf);
        resp[20] ^= 1;
        assert_eq!(
            ini.complete(&as_resp(&resp), now).err(),
            Some(HandshakeError::Rejected)
        );
        // A genuine response, but to another initiation (other ephemeral key).
        let (_, ini) = init_bytes(&a, &b.public);
        let (other, _) = init_bytes(&a, &b.public);
        assert_eq!(
            ini.complete(&as_resp(&respond_to(&other)), now).err(),
            Some(HandshakeError::Rejected)
        );
    }

    #[test]
    fn public_key_derivation_is_x25519() {
        // RFC 7748 §6.1 Alice.
        let private = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        assert_eq!(x25519_public(&private), public);
    }

    fn hex(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}
