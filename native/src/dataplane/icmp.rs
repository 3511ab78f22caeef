//! ICMP "destination unreachable" written back into the TUN device for a
//! packet the engine cannot deliver, so a local application fails at once
//! instead of waiting for a timeout (RFC 792; RFC 1812 §4.3.2 for which
//! packets never get one).

use std::net::Ipv4Addr;

use super::ipv4::Header;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No mesh node has this address (code 1).
    Host,
    /// Too big for the path and "don't fragment" is set; the path MTU (code 4, RFC 1191).
    FragmentationNeeded(u16),
    /// Routing via the mesh is on and no gateway is reachable: the kill-switch (code 13).
    AdminProhibited,
}

impl Unreachable {
    fn code(self) -> u8 {
        match self {
            Unreachable::Host => 1,
            Unreachable::FragmentationNeeded(_) => 4,
            Unreachable::AdminProhibited => 13,
        }
    }
}

const PROTO_ICMP: u8 = 1;
const ECHO_REQUEST: u8 = 8;

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Builds the reply in `out`; None for packets that must not get one (ICMP
/// errors themselves, non-first fragments, broadcast or unspecified sources).
pub fn unreachable(
    packet: &[u8],
    header: &Header,
    from: Ipv4Addr,
    why: Unreachable,
    out: &mut [u8],
) -> Option<usize> {
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let fragment_offset = u16::from_be_bytes([packet[6], packet[7]]) & 0x1fff;
    let is_icmp_error =
        packet[9] == PROTO_ICMP && packet.get(ihl).is_some_and(|&t| t != ECHO_REQUEST);
    if fragment_offset != 0
        || is_icmp_error
        || header.src.is_unspecified()
        || header.src.is_broadcast()
    {
        return None;
    }
    let quoted = &packet[..(ihl + 8).min(header.total_len)];
    let total = 20 + 8 + quoted.len();
    if out.len() < total {
        return None;
    }
    let out = &mut out[..total];
    out.fill(0);
    out[0] = 0x45;
    out[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    out[8] = 64; // TTL
    out[9] = PROTO_ICMP;
    out[12..16].copy_from_slice(&from.octets());
    out[16..20].copy_from_slice(&header.src.octets());
    let ip_sum = checksum(&out[..20]);
    out[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    out[20] = 3; // destination unreachable
    out[21] = why.code();
    if let Unreachable::FragmentationNeeded(mtu) = why {
        out[26..28].copy_from_slice(&mtu.to_be_bytes());
    }
    out[28..].copy_from_slice(quoted);
    let icmp_sum = checksum(&out[20..]);
    out[22..24].copy_from_slice(&icmp_sum.to_be_bytes());
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::ipv4::{packet, parse};

    #[test]
    fn answers_a_udp_packet_with_valid_checksums() {
        let p = packet(
            Ipv4Addr::new(10, 77, 0, 1),
            Ipv4Addr::new(203, 0, 113, 9),
            &[7u8; 32],
        );
        let h = parse(&p).unwrap();
        let mut out = [0u8; 128];
        let n = unreachable(
            &p,
            &h,
            Ipv4Addr::new(10, 77, 0, 1),
            Unreachable::AdminProhibited,
            &mut out,
        )
        .unwrap();
        let reply = &out[..n];
        let rh = parse(reply).unwrap();
        assert_eq!(
            (rh.src, rh.dst),
            (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 1))
        );
        assert_eq!((reply[20], reply[21]), (3, 13));
        assert_eq!(checksum(&reply[..20]), 0, "IP header checksum verifies");
        assert_eq!(checksum(&reply[20..]), 0, "ICMP checksum verifies");
        assert_eq!(&reply[28..], &p[..28], "quotes the header and 8 bytes");
    }

    #[test]
    fn never_answers_an_icmp_error_or_a_later_fragment() {
        let mut icmp_error = packet(
            Ipv4Addr::new(10, 77, 0, 1),
            Ipv4Addr::new(203, 0, 113, 9),
            &[3, 1, 0, 0, 0, 0, 0, 0],
        );
        icmp_error[9] = PROTO_ICMP;
        let mut fragment = packet(
            Ipv4Addr::new(10, 77, 0, 1),
            Ipv4Addr::new(203, 0, 113, 9),
            &[0; 8],
        );
        fragment[7] = 1;
        let mut out = [0u8; 128];
        for p in [icmp_error, fragment] {
            let h = parse(&p).unwrap();
            assert!(unreachable(
                &p,
                &h,
                Ipv4Addr::new(10, 77, 0, 1),
                Unreachable::Host,
                &mut out
            )
            .is_none());
        }
    }
}

#[test]
fn fragmentation_needed_carries_the_path_mtu() {
    use crate::dataplane::ipv4::{packet, parse};
    let p = packet(
        Ipv4Addr::new(10, 77, 0, 1),
        Ipv4Addr::new(10, 77, 0, 9),
        &[0; 1400],
    );
    let h = parse(&p).unwrap();
    let mut out = [0u8; 128];
    let n = unreachable(
        &p,
        &h,
        Ipv4Addr::new(10, 77, 0, 1),
        Unreachable::FragmentationNeeded(1354),
        &mut out,
    )
    .unwrap();
    assert_eq!((out[20], out[21]), (3, 4));
    assert_eq!(u16::from_be_bytes([out[26], out[27]]), 1354);
    assert_eq!(checksum(&out[20..n]), 0);
}
