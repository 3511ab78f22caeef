//! Cookies (docs/PROTOCOL.md §4.10), WireGuard's design with pim's MAC.
//!
//! A responder under load answers an initiation that lacks a valid mac2 with
//! a cookie reply instead of doing Diffie-Hellman. The cookie is a MAC of the
//! initiation's source address under a secret that rotates every two
//! minutes, so it proves only that the sender receives datagrams at that
//! address: a spoofed source never sees its cookie. The initiator keeps the
//! cookie and adds mac2 (a MAC of the initiation under the cookie) to its
//! next initiations; the responder admits those to the handshake work, still
//! under a per-source rate limit.
//!
//! The cookie travels sealed with XChaCha20-Poly1305 under a key derived
//! from the responder's public key, with the initiation's mac1 as associated
//! data, so only the initiator that sent that initiation can use the reply.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::endpoint::Endpoint;
use super::wire::{self, COOKIE_LEN, COOKIE_NONCE_LEN, COOKIE_REPLY_LEN, MAC_LEN};

const LABEL_COOKIE: &[u8] = b"pim-cookie--";
/// How long the responder's secret lives, and so a cookie made with it.
pub const COOKIE_SECRET_LIFETIME: Duration = Duration::from_secs(120);
/// How long an initiator uses a cookie: a little less than the secret's
/// life, so it does not send a mac2 the responder can no longer check.
pub const COOKIE_USABLE: Duration = Duration::from_secs(110);

pub type Cookie = [u8; COOKIE_LEN];

fn mac16(key: &[u8], parts: &[&[u8]]) -> [u8; MAC_LEN] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&m.finalize().into_bytes()[..MAC_LEN]);
    out
}

fn equal(a: &[u8; MAC_LEN], b: &[u8; MAC_LEN]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bytes a cookie binds: IP and port (big-endian) for a UDP source, the
/// relaying neighbour's key for a relayed one.
fn source_bytes(src: &Endpoint, out: &mut [u8; 32]) -> usize {
    let (ip, port) = match src {
        Endpoint::Udp(a) => (a.ip(), a.port()),
        Endpoint::Relay(key) => {
            out.copy_from_slice(key);
            return 32;
        }
    };
    let n = match ip {
        IpAddr::V4(v4) => {
            out[..4].copy_from_slice(&v4.octets());
            4
        }
        IpAddr::V6(v6) => {
            out[..16].copy_from_slice(&v6.octets());
            16
        }
    };
    out[n..n + 2].copy_from_slice(&port.to_be_bytes());
    n + 2
}

/// The cookie for `src` under `secret`.
pub fn cookie_for(secret: &[u8; 32], src: &Endpoint) -> Cookie {
    let mut b = [0u8; 32];
    let n = source_bytes(src, &mut b);
    mac16(secret, &[&b[..n]])
}

/// mac2 of an initiation (`mac2_input`: its first 136 bytes, mac1 included).
pub fn mac2(cookie: &Cookie, mac2_input: &[u8]) -> [u8; MAC_LEN] {
    mac16(cookie, &[mac2_input])
}

/// The key cookie replies from the owner of `public_key` are sealed with.
fn sealing_key(public_key: &[u8; 32]) -> XChaCha20Poly1305 {
    let mut h = Sha256::new();
    h.update(LABEL_COOKIE);
    h.update(public_key);
    let key: [u8; 32] = h.finalize().into();
    XChaCha20Poly1305::new(&key.into())
}

/// The responder's side: the rotating secret and the sealing key.
pub struct CookieMaker {
    secret: [u8; 32],
    born: Instant,
    sealer: XChaCha20Poly1305,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source works");
    b
}

impl CookieMaker {
    pub fn new(own_public: &[u8; 32], now: Instant) -> Self {
        CookieMaker {
            secret: random(),
            born: now,
            sealer: sealing_key(own_public),
        }
    }

    fn secret(&mut self, now: Instant) -> &[u8; 32] {
        if now.saturating_duration_since(self.born) >= COOKIE_SECRET_LIFETIME {
            self.secret = random();
            self.born = now;
        }
        &self.secret
    }

    /// Whether the initiation carries the mac2 of the cookie `src` holds now.
    pub fn mac2_valid(
        &mut self,
        init: &wire::Initiation<'_>,
        src: &Endpoint,
        now: Instant,
    ) -> bool {
        let Some(got) = init.mac2 else {
            return false;
        };
        let cookie = cookie_for(self.secret(now), src);
        equal(&mac2(&cookie, init.mac2_input), got)
    }

    /// Writes the cookie reply to `init` from `src` into `out`.
    pub fn reply(
        &mut self,
        init: &wire::Initiation<'_>,
        src: &Endpoint,
        now: Instant,
        out: &mut [u8; COOKIE_REPLY_LEN],
    ) {
        let cookie = cookie_for(self.secret(now), src);
        seal_reply(
            &self.sealer,
            init.sender_index,
            init.mac1,
            &cookie,
            random(),
            out,
        );
    }
}

fn seal_reply(
    sealer: &XChaCha20Poly1305,
    receiver_index: u32,
    mac1: &[u8; MAC_LEN],
    cookie: &Cookie,
    nonce: [u8; COOKIE_NONCE_LEN],
    out: &mut [u8; COOKIE_REPLY_LEN],
) {
    wire::write_cookie_reply_header(out, receiver_index);
    out[8..8 + COOKIE_NONCE_LEN].copy_from_slice(&nonce);
    let body = &mut out[8 + COOKIE_NONCE_LEN..];
    body[..COOKIE_LEN].copy_from_slice(cookie);
    let tag = sealer
        .encrypt_in_place_detached(XNonce::from_slice(&nonce), mac1, &mut body[..COOKIE_LEN])
        .expect("16 bytes always seal");
    body[COOKIE_LEN..].copy_from_slice(&tag);
}

/// The initiator's side: the cookie in a reply from `responder`, to the
/// initiation whose mac1 was `sent_mac1`; None if it does not open.
pub fn open_reply(
    responder: &[u8; 32],
    reply: &wire::CookieReply<'_>,
    sent_mac1: &[u8; MAC_LEN],
) -> Option<Cookie> {
    let mut cookie: Cookie = reply.sealed[..COOKIE_LEN].try_into().expect("fixed size");
    let tag = &reply.sealed[COOKIE_LEN..];
    sealing_key(responder)
        .decrypt_in_place_detached(
            XNonce::from_slice(reply.nonce),
            sent_mac1,
            &mut cookie,
            tag.into(),
        )
        .ok()?;
    Some(cookie)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::handshake::{self, StaticKeys};
    use crate::proto::tai64n::Tai64N;
    use crate::proto::wire::{Message, INIT_LEN, INIT_WITH_MAC2_LEN};
    use std::net::Ipv4Addr;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn src(s: &str) -> Endpoint {
        Endpoint::Udp(s.parse().unwrap())
    }

    fn initiation(to: &[u8; 32]) -> [u8; INIT_LEN] {
        let a = StaticKeys::from_private([1; 32]);
        let mut buf = [0u8; INIT_LEN];
        let ip = Ipv4Addr::new(10, 77, 0, 1);
        handshake::initiate(&a, to, 7, Tai64N([1; 12]), ip, &mut buf);
        buf
    }

    /// The vectors in docs/PROTOCOL.md §4.10: fixed secret, source, MAC
    /// input, responder key and nonce.
    #[test]
    fn the_documented_vectors_hold() {
        let secret = [0x11; 32];
        let cookie = cookie_for(&secret, &src("192.0.2.1:9100"));
        assert_eq!(hex(&cookie), "a5214bd44a4f6eecf6fc6e8fdce8dc7f");
        assert_eq!(
            hex(&mac2(&cookie, &[0x22; INIT_LEN])),
            "445815352b39e407866aa30fb6bb5250"
        );
        let responder = [0x33; 32];
        let mut out = [0u8; COOKIE_REPLY_LEN];
        seal_reply(
            &sealing_key(&responder),
            7,
            &[0x44; MAC_LEN],
            &cookie,
            [0x55; 24],
            &mut out,
        );
        assert_eq!(
            hex(&out),
            "0300000007000000555555555555555555555555555555555555555555555555\
             ad4300ea7f0a3727a6a58fcef461c0458f73ff485003620e59c99f74901c4b21"
        );
        let Ok(Message::CookieReply(r)) = wire::parse(&out) else {
            panic!("not a cookie reply")
        };
        assert_eq!(open_reply(&responder, &r, &[0x44; MAC_LEN]), Some(cookie));
    }

    #[test]
    fn a_cookie_is_bound_to_the_source_and_the_initiation_that_asked() {
        let me = StaticKeys::from_private([2; 32]);
        let t0 = Instant::now();
        let mut maker = CookieMaker::new(&me.public, t0);
        let init_bytes = initiation(&me.public);
        let Ok(Message::Initiation(init)) = wire::parse(&init_bytes) else {
            panic!()
        };
        let from = src("198.18.0.1:4000");
        assert!(!maker.mac2_valid(&init, &from, t0), "no mac2 at all");
        let mut reply = [0u8; COOKIE_REPLY_LEN];
        maker.reply(&init, &from, t0, &mut reply);
        let Ok(Message::CookieReply(r)) = wire::parse(&reply) else {
            panic!()
        };
        assert_eq!(r.receiver_index, 7);
        assert_eq!(
            open_reply(&me.public, &r, &[0; MAC_LEN]),
            None,
            "another mac1"
        );
        assert_eq!(
            open_reply(&[9; 32], &r, init.mac1),
            None,
            "another responder"
        );
        let cookie = open_reply(&me.public, &r, init.mac1).expect("opens");

        let mut with_mac2 = [0u8; INIT_WITH_MAC2_LEN];
        with_mac2[..INIT_LEN].copy_from_slice(&init_bytes);
        with_mac2[INIT_LEN..].copy_from_slice(&mac2(&cookie, &init_bytes));
        let Ok(Message::Initiation(signed)) = wire::parse(&with_mac2) else {
            panic!()
        };
        assert!(maker.mac2_valid(&signed, &from, t0));
        assert!(
            !maker.mac2_valid(&signed, &src("198.18.0.1:4001"), t0),
            "another port"
        );
        assert!(
            !maker.mac2_valid(&signed, &src("198.18.0.2:4000"), t0),
            "another address"
        );
        assert!(
            !maker.mac2_valid(&signed, &from, t0 + COOKIE_SECRET_LIFETIME),
            "the secret rotated"
        );
    }
}
