//! What the kernel hands a TUN device with offloads on, made into plain
//! packets before sealing: a TCP super-segment (GSO_TCPV4, up to 64 KB) is
//! cut into segments of `gso_size` payload bytes, each with its own IPv4 and
//! TCP headers and full checksums, as the kernel would have sent them; a
//! single packet whose checksum the kernel left partial gets it completed.
//! The receiver may not coalesce (or may have offloads off), so every packet
//! that leaves is complete on its own.

use super::checksum;
use super::{VnetHdr, GSO_TCPV4};

const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// The header does not describe the packet (the kernel never sends these;
/// they are dropped and counted rather than trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Finishes a partial checksum in place: the field at `csum_start +
/// csum_offset` holds the pseudo-header sum; the result covers everything
/// from `csum_start` to the end of the packet.
pub fn complete_checksum(packet: &mut [u8], hdr: &VnetHdr) -> Result<(), Malformed> {
    let start = usize::from(hdr.csum_start);
    let at = start + usize::from(hdr.csum_offset);
    if at + 2 > packet.len() {
        return Err(Malformed("checksum field beyond the packet"));
    }
    let initial = u16::from_be_bytes([packet[at], packet[at + 1]]);
    packet[at] = 0;
    packet[at + 1] = 0;
    let mut c = !checksum::add(initial, checksum::sum(&packet[start..]));
    // A UDP checksum of zero means "none" (RFC 768): send its other form.
    let udp = packet.len() >= 20 && packet[9] == PROTO_UDP && hdr.csum_offset == 6;
    if c == 0 && udp {
        c = 0xffff;
    }
    packet[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// The segments of one TCP/IPv4 super-segment, written one at a time into
/// the caller's buffer (no allocation).
#[derive(Debug)]
pub struct Segments<'a> {
    packet: &'a [u8],
    /// IPv4 header length, then IPv4 + TCP header length.
    ihl: usize,
    headers: usize,
    gso_size: usize,
    /// Where the next segment's payload starts in `packet`.
    next: usize,
    index: u16,
}

impl<'a> Segments<'a> {
    /// Checks the header against the packet. `max_segment` is the largest
    /// segment the caller can take (its buffer; the tunnel MTU bounds it).
    pub fn new(hdr: &VnetHdr, packet: &'a [u8], max_segment: usize) -> Result<Self, Malformed> {
        if hdr.gso_type != GSO_TCPV4 {
            return Err(Malformed("not a TCP/IPv4 super-segment"));
        }
        if packet.len() < 40 || packet[0] >> 4 != 4 || packet[9] != PROTO_TCP {
            return Err(Malformed("not TCP over IPv4"));
        }
        let ihl = usize::from(packet[0] & 0x0f) * 4;
        // The kernel's hdr_len is not trusted (on a forwarding path it may
        // span the whole first packet); the TCP header says where data starts.
        if ihl < 20 || usize::from(hdr.csum_start) != ihl || hdr.csum_offset != 16 {
            return Err(Malformed("checksum offsets do not point at the TCP header"));
        }
        let thl = packet
            .get(ihl + 12)
            .map(|b| usize::from(b >> 4) * 4)
            .ok_or(Malformed("no TCP header"))?;
        let headers = ihl + thl;
        if !(20..=60).contains(&thl) || headers > packet.len() {
            return Err(Malformed("bad TCP header length"));
        }
        let gso_size = usize::from(hdr.gso_size);
        if gso_size == 0 || headers + gso_size > max_segment {
            return Err(Malformed("segment size out of range"));
        }
        Ok(Segments {
            packet,
            ihl,
            headers,
            gso_size,
            next: headers,
            index: 0,
        })
    }

    /// Writes the next segment into `out` (at least `max_segment` bytes) and
    /// returns its length; None after the last one.
    pub fn next_into(&mut self, out: &mut [u8]) -> Option<usize> {
        let p = self.packet;
        // A super-segment without payload still yields its one packet.
        if self.next >= p.len() && !(self.index == 0 && self.next == p.len()) {
            return None;
        }
        let end = (self.next + self.gso_size).min(p.len());
        let payload = end - self.next;
        let total = self.headers + payload;
        let (ihl, headers) = (self.ihl, self.headers);
        let out = &mut out[..total];
        out[..headers].copy_from_slice(&p[..headers]);
        out[headers..].copy_from_slice(&p[self.next..end]);

        // IPv4: this segment's length, an ID one up per segment, the checksum.
        out[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        let id = u16::from_be_bytes([p[4], p[5]]).wrapping_add(self.index);
        out[4..6].copy_from_slice(&id.to_be_bytes());
        checksum::ipv4_header(&mut out[..ihl]);

        // TCP: the sequence number of this segment's first byte; FIN and PSH
        // belong to the last segment only.
        let seq0 = u32::from_be_bytes([p[ihl + 4], p[ihl + 5], p[ihl + 6], p[ihl + 7]]);
        let offset = (self.next - headers) as u32;
        out[ihl + 4..ihl + 8].copy_from_slice(&seq0.wrapping_add(offset).to_be_bytes());
        if end < p.len() {
            out[ihl + 13] &= !(TCP_FIN | TCP_PSH);
        }
        out[ihl + 16] = 0;
        out[ihl + 17] = 0;
        let src = [out[12], out[13], out[14], out[15]];
        let dst = [out[16], out[17], out[18], out[19]];
        let pseudo = checksum::pseudo_header_v4(src, dst, PROTO_TCP, (total - ihl) as u16);
        let c = !checksum::add(pseudo, checksum::sum(&out[ihl..]));
        out[ihl + 16..ihl + 18].copy_from_slice(&c.to_be_bytes());

        self.next = end.max(self.next + 1);
        self.index = self.index.wrapping_add(1);
        Some(total)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::offload::{F_NEEDS_CSUM, GSO_NONE};

    /// A TCP/IPv4 packet with valid checksums: `options` after the 20-byte
    /// IPv4 header, `tcp_options` after the 20-byte TCP header.
    pub fn tcp_packet(
        seq: u32,
        flags: u8,
        payload: &[u8],
        options: &[u8],
        tcp_options: &[u8],
    ) -> Vec<u8> {
        let ihl = 20 + options.len();
        let thl = 20 + tcp_options.len();
        let total = ihl + thl + payload.len();
        let mut p = vec![0u8; total];
        p[0] = 0x40 | (ihl / 4) as u8;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[4..6].copy_from_slice(&0x1000u16.to_be_bytes());
        p[6] = 0x40; // DF
        p[8] = 64;
        p[9] = PROTO_TCP;
        p[12..16].copy_from_slice(&[10, 77, 0, 1]);
        p[16..20].copy_from_slice(&[10, 77, 0, 2]);
        p[20..ihl].copy_from_slice(options);
        p[ihl..ihl + 2].copy_from_slice(&40000u16.to_be_bytes());
        p[ihl + 2..ihl + 4].copy_from_slice(&5201u16.to_be_bytes());
        p[ihl + 4..ihl + 8].copy_from_slice(&seq.to_be_bytes());
        p[ihl + 8..ihl + 12].copy_from_slice(&77u32.to_be_bytes());
        p[ihl + 12] = ((thl / 4) as u8) << 4;
        p[ihl + 13] = flags;
        p[ihl + 14..ihl + 16].copy_from_slice(&512u16.to_be_bytes());
        p[ihl + 20..ihl + thl].copy_from_slice(tcp_options);
        p[ihl + thl..].copy_from_slice(payload);
        fix_checksums(&mut p);
        p
    }

    pub fn fix_checksums(p: &mut [u8]) {
        let ihl = usize::from(p[0] & 0x0f) * 4;
        checksum::ipv4_header(&mut p[..ihl]);
        p[ihl + 16] = 0;
        p[ihl + 17] = 0;
        let pseudo = checksum::pseudo_header_v4(
            [p[12], p[13], p[14], p[15]],
            [p[16], p[17], p[18], p[19]],
            PROTO_TCP,
            (p.len() - ihl) as u16,
        );
        let c = !checksum::add(pseudo, checksum::sum(&p[ihl..]));
        p[ihl + 16..ihl + 18].copy_from_slice(&c.to_be_bytes());
    }

    /// Both checksums of an IPv4 TCP packet verify.
    pub fn checksums_ok(p: &[u8]) -> bool {
        let ihl = usize::from(p[0] & 0x0f) * 4;
        let pseudo = checksum::pseudo_header_v4(
            [p[12], p[13], p[14], p[15]],
            [p[16], p[17], p[18], p[19]],
            p[9],
            (p.len() - ihl) as u16,
        );
        checksum::sum(&p[..ihl]) == 0xffff
            && checksum::add(pseudo, checksum::sum(&p[ihl..])) == 0xffff
    }

    /// What the kernel hands over: one super-segment with the TCP checksum
    /// field holding only the pseudo-header sum of the whole thing.
    pub fn super_segment(
        payload: &[u8],
        mss: u16,
        flags: u8,
        options: &[u8],
        tcp_options: &[u8],
    ) -> (VnetHdr, Vec<u8>) {
        let mut p = tcp_packet(1000, flags, payload, options, tcp_options);
        let ihl = 20 + options.len();
        let pseudo = checksum::pseudo_header_v4(
            [10, 77, 0, 1],
            [10, 77, 0, 2],
            PROTO_TCP,
            (p.len() - ihl) as u16,
        );
        p[ihl + 16..ihl + 18].copy_from_slice(&pseudo.to_be_bytes());
        let hdr = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV4,
            hdr_len: (ihl + 20 + tcp_options.len()) as u16,
            gso_size: mss,
            csum_start: ihl as u16,
            csum_offset: 16,
        };
        (hdr, p)
    }

    fn split_all(hdr: &VnetHdr, p: &[u8]) -> Vec<Vec<u8>> {
        let mut segs = Segments::new(hdr, p, 1500).expect("well-formed");
        let mut out = vec![0u8; 1500];
        let mut all = Vec::new();
        while let Some(n) = segs.next_into(&mut out) {
            all.push(out[..n].to_vec());
        }
        all
    }

    /// Name, payload length, MSS, IPv4 options, TCP options, segments, last payload.
    type Case<'a> = (&'a str, usize, u16, &'a [u8], &'a [u8], usize, usize);

    #[test]
    fn segments_carry_the_payload_in_order_with_valid_headers() {
        // (case, payload length, MSS, IPv4 options, TCP options, segments, last payload)
        let ts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
        let cases: [Case; 6] = [
            ("exact multiple", 1380 * 4, 1380, &[], &[], 4, 1380),
            ("the last segment short", 1380 * 3 + 7, 1380, &[], &[], 4, 7),
            ("odd sizes", 4099, 1367, &[], &[], 3, 1365),
            ("one byte over one segment", 1381, 1380, &[], &[], 2, 1),
            ("IPv4 options", 3000, 1376, &[1, 1, 1, 0], &[], 3, 248),
            (
                "TCP timestamps",
                65000,
                1368,
                &[],
                &ts,
                48,
                65000 - 47 * 1368,
            ),
        ];
        for (name, len, mss, opts, tcp_opts, count, last) in cases {
            let payload: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let (hdr, p) = super_segment(&payload, mss, 0x18, opts, tcp_opts);
            let segs = split_all(&hdr, &p);
            assert_eq!(segs.len(), count, "{name}: count");
            let ihl = 20 + opts.len();
            let headers = ihl + 20 + tcp_opts.len();
            let mut joined = Vec::new();
            for (i, s) in segs.iter().enumerate() {
                assert!(checksums_ok(s), "{name}: segment {i} checksums");
                assert_eq!(usize::from(u16::from_be_bytes([s[2], s[3]])), s.len());
                assert_eq!(
                    u16::from_be_bytes([s[4], s[5]]),
                    0x1000 + i as u16,
                    "{name}: IP id"
                );
                let seq = u32::from_be_bytes([s[ihl + 4], s[ihl + 5], s[ihl + 6], s[ihl + 7]]);
                assert_eq!(seq, 1000 + (i * usize::from(mss)) as u32, "{name}: seq");
                let psh = s[ihl + 13] & TCP_PSH != 0;
                assert_eq!(psh, i == count - 1, "{name}: PSH on the last segment only");
                assert_eq!(&s[20..ihl], opts, "{name}: IP options kept");
                assert_eq!(&s[ihl + 20..headers], tcp_opts, "{name}: TCP options kept");
                joined.extend_from_slice(&s[headers..]);
            }
            assert_eq!(
                segs.last().unwrap().len() - headers,
                last,
                "{name}: last payload"
            );
            assert_eq!(joined, payload, "{name}: payload");
        }
    }

    #[test]
    fn fin_stays_on_the_last_segment_only() {
        let (hdr, p) = super_segment(&[9u8; 3000], 1400, 0x11, &[], &[]);
        let segs = split_all(&hdr, &p);
        let fins: Vec<bool> = segs.iter().map(|s| s[33] & TCP_FIN != 0).collect();
        assert_eq!(fins, [false, false, true]);
    }

    #[test]
    fn headers_that_do_not_match_the_packet_are_refused() {
        let (hdr, p) = super_segment(&[1u8; 3000], 1380, 0x10, &[], &[]);
        let mut udp = p.clone();
        udp[9] = PROTO_UDP;
        let mut thl_short = p.clone();
        thl_short[32] = 0x40;
        let cases: Vec<(&str, VnetHdr, Vec<u8>)> = vec![
            (
                "not GSO",
                VnetHdr {
                    gso_type: GSO_NONE,
                    ..hdr
                },
                p.clone(),
            ),
            ("UDP", hdr, udp),
            ("IPv6", hdr, {
                let mut q = p.clone();
                q[0] = 0x60;
                q
            }),
            (
                "csum_start not the TCP header",
                VnetHdr {
                    csum_start: 24,
                    ..hdr
                },
                p.clone(),
            ),
            ("TCP header below 20 bytes", hdr, thl_short),
            ("zero MSS", VnetHdr { gso_size: 0, ..hdr }, p.clone()),
            (
                "MSS over the buffer",
                VnetHdr {
                    gso_size: 1481,
                    ..hdr
                },
                p.clone(),
            ),
            ("truncated", hdr, p[..30].to_vec()),
        ];
        for (name, h, q) in cases {
            assert!(Segments::new(&h, &q, 1500).is_err(), "{name}");
        }
    }

    #[test]
    fn a_partial_checksum_is_completed() {
        // A small TCP packet (a pure ACK) and a UDP datagram, as the kernel
        // hands them with TUN_F_CSUM: the field holds the pseudo-header sum.
        let full = tcp_packet(5, 0x10, &[], &[], &[]);
        let (hdr, mut partial) = super_segment(&[], 1380, 0x10, &[], &[]);
        let hdr = VnetHdr {
            gso_type: GSO_NONE,
            gso_size: 0,
            ..hdr
        };
        partial[24..28].copy_from_slice(&5u32.to_be_bytes());
        let pseudo = checksum::pseudo_header_v4([10, 77, 0, 1], [10, 77, 0, 2], PROTO_TCP, 20);
        partial[36..38].copy_from_slice(&pseudo.to_be_bytes());
        complete_checksum(&mut partial, &hdr).unwrap();
        assert_eq!(partial, full);

        let mut udp = vec![
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, PROTO_UDP, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
        ];
        udp.extend_from_slice(&[0x9c, 0x40, 0x14, 0x51, 0, 9, 0, 0, 0x2a]);
        let pseudo = checksum::pseudo_header_v4([10, 77, 0, 1], [10, 77, 0, 2], PROTO_UDP, 9);
        udp[26..28].copy_from_slice(&pseudo.to_be_bytes());
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 20,
            csum_offset: 6,
            ..VnetHdr::NONE
        };
        complete_checksum(&mut udp, &h).unwrap();
        assert_eq!(checksum::add(pseudo, checksum::sum(&udp[20..])), 0xffff);

        let beyond = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 20,
            csum_offset: 9,
            ..VnetHdr::NONE
        };
        assert!(complete_checksum(&mut udp, &beyond).is_err());
    }
}
