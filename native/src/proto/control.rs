//! What a decrypted transport payload is (docs/PROTOCOL.md §3.3): empty = a
//! keepalive; first nibble 4 = an IPv4 packet; 0x01/0x02 = a latency probe /
//! its reply; 0x03 = an advertisement for the control plane (opaque here);
//! 0x04 = a relay envelope: a whole pim datagram between two other nodes,
//! with the routing header a relay needs. Bytes 0x00 and 0x05–0x3f are reserved.

pub const PROBE: u8 = 0x01;
pub const PROBE_REPLY: u8 = 0x02;
pub const ADVERT: u8 = 0x03;
pub const RELAY: u8 = 0x04;
/// Type, TTL, destination node_id.
pub const RELAY_HEADER_LEN: usize = 1 + 1 + 16;
/// Hops a relayed datagram may take before it is dropped (the distance-vector infinity).
pub const RELAY_TTL: u8 = 16;
pub const PROBE_LEN: usize = 9;
/// Advertisements are small, whole control-plane messages (roles, routes).
pub const MAX_ADVERT_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    Keepalive,
    Ipv4(&'a [u8]),
    Probe(u64),
    ProbeReply(u64),
    /// The advertisement's bytes, without the type byte.
    Advert(&'a [u8]),
    Relay(RelayHeader, &'a [u8]),
    Unknown,
}

pub fn classify(payload: &[u8]) -> Payload<'_> {
    let nonce = || {
        let mut n = [0u8; 8];
        n.copy_from_slice(&payload[1..PROBE_LEN]);
        u64::from_le_bytes(n)
    };
    match payload.first() {
        None => Payload::Keepalive,
        Some(b) if b >> 4 == 4 => Payload::Ipv4(payload),
        Some(&PROBE) if payload.len() == PROBE_LEN => Payload::Probe(nonce()),
        Some(&PROBE_REPLY) if payload.len() == PROBE_LEN => Payload::ProbeReply(nonce()),
        Some(&ADVERT) if payload.len() > 1 && payload.len() <= 1 + MAX_ADVERT_LEN => {
            Payload::Advert(&payload[1..])
        }
        Some(&RELAY) if payload.len() > RELAY_HEADER_LEN => {
            let dst: [u8; 16] = payload[2..18].try_into().expect("length checked");
            let header = RelayHeader {
                ttl: payload[1],
                dst,
            };
            Payload::Relay(header, &payload[RELAY_HEADER_LEN..])
        }
        Some(_) => Payload::Unknown,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayHeader {
    pub ttl: u8,
    pub dst: [u8; 16],
}

pub fn write_relay_header(out: &mut [u8], header: &RelayHeader) {
    out[0] = RELAY;
    out[1] = header.ttl;
    out[2..18].copy_from_slice(&header.dst);
}

fn message(kind: u8, nonce: u64) -> [u8; PROBE_LEN] {
    let mut m = [0u8; PROBE_LEN];
    m[0] = kind;
    m[1..].copy_from_slice(&nonce.to_le_bytes());
    m
}

pub fn probe(nonce: u64) -> [u8; PROBE_LEN] {
    message(PROBE, nonce)
}

pub fn probe_reply(nonce: u64) -> [u8; PROBE_LEN] {
    message(PROBE_REPLY, nonce)
}

/// Wraps an advertisement; None when it is empty or too large.
pub fn advert(body: &[u8]) -> Option<Vec<u8>> {
    if body.is_empty() || body.len() > MAX_ADVERT_LEN {
        return None;
    }
    let mut m = Vec::with_capacity(1 + body.len());
    m.push(ADVERT);
    m.extend_from_slice(body);
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_kind_of_payload() {
        let ipv4 = [0x45u8, 0, 0, 20];
        let ad = advert(b"{}").unwrap();
        let too_big = [[ADVERT].as_slice(), &[b'x'; MAX_ADVERT_LEN + 1]].concat();
        let mut relay = vec![0u8; RELAY_HEADER_LEN + 3];
        let header = RelayHeader {
            ttl: 7,
            dst: [1; 16],
        };
        write_relay_header(&mut relay, &header);
        relay[RELAY_HEADER_LEN..].copy_from_slice(b"abc");
        let cases: [(&str, &[u8], Payload<'_>); 12] = [
            ("relay envelope", &relay, Payload::Relay(header, b"abc")),
            (
                "relay header without a datagram",
                &relay[..RELAY_HEADER_LEN],
                Payload::Unknown,
            ),
            ("advert", &ad, Payload::Advert(b"{}")),
            ("empty advert", &[ADVERT], Payload::Unknown),
            ("oversized advert", &too_big, Payload::Unknown),
            ("empty is a keepalive", &[], Payload::Keepalive),
            ("version 4 is IPv4", &ipv4, Payload::Ipv4(&ipv4)),
            ("probe", &probe(7), Payload::Probe(7)),
            (
                "probe reply",
                &probe_reply(u64::MAX),
                Payload::ProbeReply(u64::MAX),
            ),
            ("short probe", &[PROBE, 1, 2], Payload::Unknown),
            ("IPv6 is not carried", &[0x60, 0, 0, 0], Payload::Unknown),
            ("reserved control byte", &[0x05; 9], Payload::Unknown),
        ];
        for (name, bytes, want) in cases {
            assert_eq!(classify(bytes), want, "{name}");
        }
    }
}
