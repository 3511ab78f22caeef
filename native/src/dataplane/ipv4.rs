//! Just enough IPv4 header reading to route a packet and check who sent it.

use std::net::Ipv4Addr;

pub struct Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// The total length the header declares (≤ the bytes we have).
    pub total_len: usize,
    pub dont_fragment: bool,
}

/// None for anything that is not a well-formed IPv4 packet.
pub fn parse(packet: &[u8]) -> Option<Header> {
    if packet.len() < 20 || packet[0] >> 4 != 4 || usize::from(packet[0] & 0x0f) * 4 < 20 {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total_len < usize::from(packet[0] & 0x0f) * 4 || total_len > packet.len() {
        return None;
    }
    Some(Header {
        src: Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]),
        dst: Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]),
        total_len,
        dont_fragment: packet[6] & 0x40 != 0,
    })
}

#[cfg(test)]
pub fn packet(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
    ];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_well_formed_ipv4() {
        let a = Ipv4Addr::new(10, 77, 0, 1);
        let b = Ipv4Addr::new(10, 77, 0, 2);
        let good = packet(a, b, b"hello");
        let h = parse(&good).unwrap();
        assert_eq!((h.src, h.dst, h.total_len), (a, b, 25));
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 7]);
        assert_eq!(parse(&padded).unwrap().total_len, 25);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("short", good[..19].to_vec()),
            ("ipv6", {
                let mut p = good.clone();
                p[0] = 0x60;
                p
            }),
            ("ihl below 5", {
                let mut p = good.clone();
                p[0] = 0x44;
                p
            }),
            ("declares more than it has", good[..24].to_vec()),
        ];
        for (name, p) in cases {
            assert!(parse(&p).is_none(), "{name}");
        }
    }
}
