//! Byte layouts of every datagram pim sends on the underlay (docs/PROTOCOL.md §3).
//!
//! All integers are little-endian. Every message starts with a 4-byte header:
//! the type and three reserved zero bytes. Parsing never allocates and never
//! panics: a datagram that does not match a layout exactly is `Malformed`.

/// Message types (byte 0 of every datagram).
pub const TYPE_INITIATION: u8 = 1;
pub const TYPE_RESPONSE: u8 = 2;
pub const TYPE_COOKIE_REPLY: u8 = 3;
pub const TYPE_TRANSPORT: u8 = 4;

pub const MAC_LEN: usize = 16;
pub const AEAD_TAG_LEN: usize = 16;

/// Noise IK message 1: e (32) + encrypted s (32 + 16) + encrypted payload.
pub const INIT_PAYLOAD_LEN: usize = 12 + 4; // TAI64N timestamp + mesh IPv4
pub const INIT_NOISE_LEN: usize = 32 + 32 + AEAD_TAG_LEN + INIT_PAYLOAD_LEN + AEAD_TAG_LEN;
pub const INIT_LEN: usize = 4 + 4 + INIT_NOISE_LEN + MAC_LEN;
/// An initiation sent with a cookie carries mac2 after mac1 (§4.10).
pub const INIT_WITH_MAC2_LEN: usize = INIT_LEN + MAC_LEN;

/// Cookie reply: header, receiver index, XChaCha20 nonce, sealed cookie.
pub const COOKIE_NONCE_LEN: usize = 24;
pub const COOKIE_LEN: usize = 16;
pub const COOKIE_REPLY_LEN: usize = 4 + 4 + COOKIE_NONCE_LEN + COOKIE_LEN + AEAD_TAG_LEN;

/// Noise IK message 2: e (32) + encrypted payload.
pub const RESP_PAYLOAD_LEN: usize = 4; // mesh IPv4
pub const RESP_NOISE_LEN: usize = 32 + RESP_PAYLOAD_LEN + AEAD_TAG_LEN;
pub const RESP_LEN: usize = 4 + 4 + 4 + RESP_NOISE_LEN + MAC_LEN;

/// Transport: header, receiver index, counter, then the AEAD ciphertext.
pub const TRANSPORT_HEADER_LEN: usize = 4 + 4 + 8;
/// An empty payload is a keepalive.
pub const TRANSPORT_MIN_LEN: usize = TRANSPORT_HEADER_LEN + AEAD_TAG_LEN;
/// Largest datagram pim accepts or builds: a 65535-byte Noise message bound.
pub const MAX_DATAGRAM_LEN: usize = 65535;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Initiation<'a> {
    pub sender_index: u32,
    pub noise: &'a [u8],
    /// Everything the MAC covers: the datagram up to the MAC.
    pub mac_input: &'a [u8],
    pub mac1: &'a [u8; MAC_LEN],
    /// What mac2 covers: the datagram up to mac2 (mac1 included).
    pub mac2_input: &'a [u8],
    /// Present only when the sender holds a cookie from us.
    pub mac2: Option<&'a [u8; MAC_LEN]>,
}

/// A responder under load answers an initiation with this instead (§4.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieReply<'a> {
    /// The initiation's sender_index.
    pub receiver_index: u32,
    pub nonce: &'a [u8; COOKIE_NONCE_LEN],
    /// The cookie, sealed: 16 bytes and the tag.
    pub sealed: &'a [u8; COOKIE_LEN + AEAD_TAG_LEN],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    pub sender_index: u32,
    pub receiver_index: u32,
    pub noise: &'a [u8],
    pub mac_input: &'a [u8],
    pub mac1: &'a [u8; MAC_LEN],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport<'a> {
    pub receiver_index: u32,
    pub counter: u64,
    pub ciphertext: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    Initiation(Initiation<'a>),
    Response(Response<'a>),
    CookieReply(CookieReply<'a>),
    Transport(Transport<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

fn mac_at(b: &[u8], at: usize) -> &[u8; MAC_LEN] {
    b[at..at + MAC_LEN]
        .try_into()
        .expect("length checked by caller")
}

pub fn parse(datagram: &[u8]) -> Result<Message<'_>, Malformed> {
    if datagram.len() < 4 || datagram[1..4] != [0, 0, 0] {
        return Err(Malformed);
    }
    match datagram[0] {
        TYPE_INITIATION if datagram.len() == INIT_LEN || datagram.len() == INIT_WITH_MAC2_LEN => {
            let mac_at_ofs = INIT_LEN - MAC_LEN;
            Ok(Message::Initiation(Initiation {
                sender_index: u32_at(datagram, 4),
                noise: &datagram[8..mac_at_ofs],
                mac_input: &datagram[..mac_at_ofs],
                mac1: mac_at(datagram, mac_at_ofs),
                mac2_input: &datagram[..INIT_LEN],
                mac2: (datagram.len() == INIT_WITH_MAC2_LEN).then(|| mac_at(datagram, INIT_LEN)),
            }))
        }
        TYPE_COOKIE_REPLY if datagram.len() == COOKIE_REPLY_LEN => {
            let nonce_end = 8 + COOKIE_NONCE_LEN;
            Ok(Message::CookieReply(CookieReply {
                receiver_index: u32_at(datagram, 4),
                nonce: datagram[8..nonce_end].try_into().expect("length checked"),
                sealed: datagram[nonce_end..].try_into().expect("length checked"),
            }))
        }
        TYPE_RESPONSE if datagram.len() == RESP_LEN => {
            let mac_at_ofs = RESP_LEN - MAC_LEN;
            Ok(Message::Response(Response {
                sender_index: u32_at(datagram, 4),
                receiver_index: u32_at(datagram, 8),
                noise: &datagram[12..mac_at_ofs],
                mac_input: &datagram[..mac_at_ofs],
                mac1: mac_at(datagram, mac_at_ofs),
            }))
        }
        TYPE_TRANSPORT
            if datagram.len() >= TRANSPORT_MIN_LEN && datagram.len() <= MAX_DATAGRAM_LEN =>
        {
            Ok(Message::Transport(Transport {
                receiver_index: u32_at(datagram, 4),
                counter: u64_at(datagram, 8),
                ciphertext: &datagram[TRANSPORT_HEADER_LEN..],
            }))
        }
        _ => Err(Malformed),
    }
}

/// Writes the 8-byte initiation prefix; the caller appends the Noise message and MAC.
pub fn write_initiation_header(out: &mut [u8], sender_index: u32) {
    out[..4].copy_from_slice(&[TYPE_INITIATION, 0, 0, 0]);
    out[4..8].copy_from_slice(&sender_index.to_le_bytes());
}

pub fn write_response_header(out: &mut [u8], sender_index: u32, receiver_index: u32) {
    out[..4].copy_from_slice(&[TYPE_RESPONSE, 0, 0, 0]);
    out[4..8].copy_from_slice(&sender_index.to_le_bytes());
    out[8..12].copy_from_slice(&receiver_index.to_le_bytes());
}

pub fn write_cookie_reply_header(out: &mut [u8], receiver_index: u32) {
    out[..4].copy_from_slice(&[TYPE_COOKIE_REPLY, 0, 0, 0]);
    out[4..8].copy_from_slice(&receiver_index.to_le_bytes());
}

pub fn write_transport_header(out: &mut [u8], receiver_index: u32, counter: u64) {
    out[..4].copy_from_slice(&[TYPE_TRANSPORT, 0, 0, 0]);
    out[4..8].copy_from_slice(&receiver_index.to_le_bytes());
    out[8..16].copy_from_slice(&counter.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_documented_layout() {
        assert_eq!(INIT_NOISE_LEN, 112);
        assert_eq!(INIT_LEN, 136);
        assert_eq!(RESP_NOISE_LEN, 52);
        assert_eq!(RESP_LEN, 80);
        assert_eq!(INIT_WITH_MAC2_LEN, 152);
        assert_eq!(COOKIE_REPLY_LEN, 64);
        assert_eq!(TRANSPORT_MIN_LEN, 32);
    }

    #[test]
    fn transport_round_trip() {
        let mut d = vec![0u8; TRANSPORT_MIN_LEN + 5];
        write_transport_header(&mut d, 0xdead_beef, 0x0102_0304_0506_0708);
        match parse(&d).unwrap() {
            Message::Transport(t) => {
                assert_eq!(t.receiver_index, 0xdead_beef);
                assert_eq!(t.counter, 0x0102_0304_0506_0708);
                assert_eq!(t.ciphertext.len(), AEAD_TAG_LEN + 5);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn every_wrong_shape_is_malformed() {
        let mut init = vec![0u8; INIT_LEN];
        write_initiation_header(&mut init, 7);
        let mut resp = vec![0u8; RESP_LEN];
        write_response_header(&mut resp, 1, 2);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("short header", vec![TYPE_TRANSPORT, 0, 0]),
            ("unknown type", vec![9, 0, 0, 0, 1, 2, 3, 4]),
            ("type 0", vec![0u8; 64]),
            ("reserved byte set", {
                let mut d = init.clone();
                d[2] = 1;
                d
            }),
            ("initiation one byte short", init[..INIT_LEN - 1].to_vec()),
            ("initiation one byte long", [init.clone(), vec![0]].concat()),
            (
                "initiation with mac2 one byte long",
                [init.clone(), vec![0; MAC_LEN + 1]].concat(),
            ),
            ("cookie reply one byte short", {
                let mut d = vec![0u8; COOKIE_REPLY_LEN - 1];
                write_cookie_reply_header(&mut d, 1);
                d
            }),
            ("response one byte short", resp[..RESP_LEN - 1].to_vec()),
            ("transport without tag", {
                let mut d = vec![0u8; TRANSPORT_MIN_LEN - 1];
                write_transport_header(&mut d, 1, 1);
                d
            }),
            ("oversized transport", {
                let mut d = vec![0u8; MAX_DATAGRAM_LEN + 1];
                write_transport_header(&mut d, 1, 1);
                d
            }),
        ];
        for (name, d) in cases {
            assert_eq!(parse(&d), Err(Malformed), "{name}");
        }
        assert!(
            matches!(parse(&init), Ok(Message::Initiation(i)) if i.sender_index == 7 && i.mac2.is_none())
        );
        let with_mac2 = [init.clone(), vec![9; MAC_LEN]].concat();
        assert!(
            matches!(parse(&with_mac2), Ok(Message::Initiation(i)) if i.mac2 == Some(&[9; MAC_LEN]) && i.mac2_input == &init[..])
        );
        let mut cookie = vec![0u8; COOKIE_REPLY_LEN];
        write_cookie_reply_header(&mut cookie, 5);
        assert!(matches!(parse(&cookie), Ok(Message::CookieReply(c)) if c.receiver_index == 5));
        assert!(matches!(parse(&resp), Ok(Message::Response(r)) if r.receiver_index == 2));
    }
}
