//! Receive coalescing (GRO) for the TUN device: decrypted TCP/IPv4 segments
//! of one flow that follow each other are joined into one super-segment
//! and written with one system call, with a virtio-net header telling the
//! kernel how it was cut (GSO_TCPV4, gso_size = the first segment's
//! payload) and that the TCP checksum is partial. The kernel's own GRO
//! rules decide what may be joined (net/ipv4/tcp_offload.c): the same
//! addresses, ports, ACK number, window, TCP options, TOS, TTL and DF; no
//! IPv4 options or fragments; only ACK or ACK|PSH set; the next sequence
//! number; no segment larger than the first; a short segment or PSH ends
//! the run. Each segment's checksum is checked before it is joined, since
//! the kernel takes a partial checksum as verified.
//!
//! Order: segments of one flow keep their order; a packet that cannot be
//! joined (another protocol, a SYN or FIN, a bad checksum) first flushes
//! everything held, so nothing overtakes what came before it.
//!
//! Memory: at most MAX_FLOWS buffers of 64 KB, allocated on first use.

use super::{checksum, VnetHdr, F_NEEDS_CSUM, GSO_TCPV4, MAX_SUPER_PACKET};

/// Flows held at once; a new one beyond this flushes the oldest.
pub const MAX_FLOWS: usize = 8;

const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;
const PROTO_TCP: u8 = 6;

/// The addresses and ports of a segment (bytes 12..20 of the IPv4 header,
/// then the TCP ports).
type FlowKey = [u8; 12];

/// What a joinable segment is, read once.
struct Segment {
    key: FlowKey,
    thl: usize,
    seq: u32,
    payload: usize,
    psh: bool,
}

/// The segment a TCP/IPv4 packet is, if it may be joined with others.
fn joinable(p: &[u8]) -> Option<Segment> {
    if p.len() < 40 || p[0] != 0x45 || p[9] != PROTO_TCP {
        return None; // not TCP/IPv4, or IPv4 options
    }
    if usize::from(u16::from_be_bytes([p[2], p[3]])) != p.len() {
        return None;
    }
    if p[6] & 0x3f != 0 || p[7] != 0 {
        return None; // a fragment
    }
    let thl = usize::from(p[32] >> 4) * 4;
    if !(20..=60).contains(&thl) || 20 + thl >= p.len() {
        return None; // no payload
    }
    let flags = p[33];
    if flags != TCP_ACK && flags != TCP_ACK | TCP_PSH {
        return None;
    }
    let pseudo = checksum::pseudo_header_v4(
        [p[12], p[13], p[14], p[15]],
        [p[16], p[17], p[18], p[19]],
        PROTO_TCP,
        (p.len() - 20) as u16,
    );
    if checksum::add(pseudo, checksum::sum(&p[20..])) != 0xffff {
        return None; // the kernel would drop it; it must not hide in a batch
    }
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&p[12..20]);
    key[8..].copy_from_slice(&p[20..24]);
    Some(Segment {
        key,
        thl,
        seq: u32::from_be_bytes([p[24], p[25], p[26], p[27]]),
        payload: p.len() - 20 - thl,
        psh: flags & TCP_PSH != 0,
    })
}

/// One flow's segments joined so far: the first one's headers, then every
/// payload in order.
struct Held {
    key: FlowKey,
    buf: Vec<u8>,
    len: usize,
    thl: usize,
    gso_size: usize,
    next_seq: u32,
    segments: usize,
    /// A short segment or PSH came: nothing may follow.
    closed: bool,
}

impl Held {
    fn accepts(&self, p: &[u8], s: &Segment) -> bool {
        let head = &self.buf[..self.len];
        !self.closed
            && s.seq == self.next_seq
            && s.thl == self.thl
            && s.payload <= self.gso_size
            && self.len + s.payload <= MAX_SUPER_PACKET
            // TOS; DF (fragments are excluded already); TTL
            && p[1] == head[1]
            && p[6] == head[6]
            && p[8] == head[8]
            // ACK number; data offset and flags less PSH; window; options
            && p[28..32] == head[28..32]
            && p[32] == head[32]
            && p[34..36] == head[34..36]
            && p[40..20 + s.thl] == head[40..20 + s.thl]
    }
}

pub struct Coalescer {
    held: Vec<Held>,
    /// Buffers of flushed flows, for the next ones.
    spare: Vec<Vec<u8>>,
}

impl Default for Coalescer {
    fn default() -> Self {
        Coalescer {
            held: Vec::with_capacity(MAX_FLOWS),
            spare: Vec::with_capacity(MAX_FLOWS),
        }
    }
}

impl Coalescer {
    /// Takes one IPv4 packet for the TUN device; `write` receives whatever
    /// must go out now (packets held for joining go out at `flush`).
    pub fn push(&mut self, p: &[u8], write: &mut impl FnMut(&VnetHdr, &[u8])) {
        let Some(s) = joinable(p) else {
            self.flush(write);
            return write(&VnetHdr::NONE, p);
        };
        if let Some(i) = self.held.iter().position(|h| h.key == s.key) {
            if self.held[i].accepts(p, &s) {
                let h = &mut self.held[i];
                h.buf[h.len..h.len + s.payload].copy_from_slice(&p[20 + s.thl..]);
                h.len += s.payload;
                h.next_seq = h.next_seq.wrapping_add(s.payload as u32);
                h.segments += 1;
                if s.psh {
                    h.buf[33] |= TCP_PSH;
                }
                h.closed = s.psh || s.payload < h.gso_size;
                return;
            }
            self.emit(i, write);
        } else if self.held.len() == MAX_FLOWS {
            self.emit(0, write);
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.resize(MAX_SUPER_PACKET, 0);
        buf[..p.len()].copy_from_slice(p);
        self.held.push(Held {
            key: s.key,
            buf,
            len: p.len(),
            thl: s.thl,
            gso_size: s.payload,
            next_seq: s.seq.wrapping_add(s.payload as u32),
            segments: 1,
            closed: s.psh,
        });
    }

    /// Writes everything held, oldest flow first.
    pub fn flush(&mut self, write: &mut impl FnMut(&VnetHdr, &[u8])) {
        while !self.held.is_empty() {
            self.emit(0, write);
        }
    }

    fn emit(&mut self, i: usize, write: &mut impl FnMut(&VnetHdr, &[u8])) {
        let mut h = self.held.remove(i);
        let p = &mut h.buf[..h.len];
        if h.segments == 1 {
            write(&VnetHdr::NONE, p); // untouched, checksums complete
        } else {
            p[2..4].copy_from_slice(&(h.len as u16).to_be_bytes());
            checksum::ipv4_header(&mut p[..20]);
            let pseudo = checksum::pseudo_header_v4(
                [p[12], p[13], p[14], p[15]],
                [p[16], p[17], p[18], p[19]],
                PROTO_TCP,
                (h.len - 20) as u16,
            );
            p[36..38].copy_from_slice(&pseudo.to_be_bytes());
            let hdr = VnetHdr {
                flags: F_NEEDS_CSUM,
                gso_type: GSO_TCPV4,
                hdr_len: (20 + h.thl) as u16,
                gso_size: h.gso_size as u16,
                csum_start: 20,
                csum_offset: 16,
            };
            write(&hdr, p);
        }
        self.spare.push(h.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offload::split::tests::{checksums_ok, tcp_packet};
    use crate::offload::split::{complete_checksum, Segments};
    use crate::offload::GSO_NONE;

    /// Runs packets through a coalescer and flushes: every write, in order.
    fn coalesce(packets: &[Vec<u8>]) -> Vec<(VnetHdr, Vec<u8>)> {
        let mut c = Coalescer::default();
        let mut out = Vec::new();
        let mut write = |h: &VnetHdr, p: &[u8]| out.push((*h, p.to_vec()));
        for p in packets {
            c.push(p, &mut write);
        }
        c.flush(&mut write);
        out
    }

    /// What the kernel makes of a write: the packets it stands for.
    fn resegment((hdr, p): &(VnetHdr, Vec<u8>)) -> Vec<Vec<u8>> {
        if hdr.gso_type == GSO_NONE {
            return vec![p.clone()];
        }
        assert_eq!(hdr.flags, F_NEEDS_CSUM);
        // The checksum field holds the pseudo-header sum the kernel expects.
        let mut check = p.clone();
        complete_checksum(
            &mut check,
            &VnetHdr {
                gso_type: GSO_NONE,
                ..*hdr
            },
        )
        .unwrap();
        assert!(
            checksums_ok(&check),
            "partial checksum completes to a valid one"
        );
        let mut segs = Segments::new(hdr, p, 9000).unwrap();
        let mut out = vec![0u8; 9000];
        let mut all = Vec::new();
        while let Some(n) = segs.next_into(&mut out) {
            all.push(out[..n].to_vec());
        }
        all
    }

    fn data(seq: u32, len: usize, flags: u8) -> Vec<u8> {
        let payload: Vec<u8> = (0..len).map(|i| (seq as usize + i) as u8).collect();
        tcp_packet(seq, flags, &payload, &[], &[])
    }

    fn with_ports(mut p: Vec<u8>, sport: u16) -> Vec<u8> {
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        crate::offload::split::tests::fix_checksums(&mut p);
        p
    }

    /// Payload bytes of each packet, per flow (source port), in order.
    fn streams(packets: &[Vec<u8>]) -> Vec<(u16, Vec<u8>)> {
        let mut flows: Vec<(u16, Vec<u8>)> = Vec::new();
        for p in packets {
            let port = u16::from_be_bytes([p[20], p[21]]);
            let thl = usize::from(p[32] >> 4) * 4;
            let body = &p[20 + thl..];
            match flows.iter_mut().find(|f| f.0 == port) {
                Some(f) => f.1.extend_from_slice(body),
                None => flows.push((port, body.to_vec())),
            }
        }
        flows
    }

    /// A case name, the packets in, and how many segments each write holds.
    type Case = (&'static str, Vec<Vec<u8>>, Vec<usize>);

    #[test]
    fn joins_what_the_kernel_would_and_nothing_else() {
        const ACK: u8 = TCP_ACK;
        const PA: u8 = TCP_ACK | TCP_PSH;
        let s = 1380usize;
        let seq = |i: usize| 1000 + (i * s) as u32;
        let mut bad_sum = data(seq(1), s, ACK);
        bad_sum[60] ^= 0xff;
        let mut other_ttl = data(seq(1), s, ACK);
        other_ttl[8] = 63;
        crate::offload::split::tests::fix_checksums(&mut other_ttl);
        let options = tcp_packet(seq(1), ACK, &[7u8; 1380], &[1, 1, 1, 0], &[]);
        // (case, packets, how many writes, segments per write)
        let cases: Vec<Case> = vec![
            (
                "in-order full segments",
                (0..4).map(|i| data(seq(i), s, ACK)).collect(),
                vec![4],
            ),
            (
                "the last segment short",
                vec![
                    data(seq(0), s, ACK),
                    data(seq(1), s, ACK),
                    data(seq(2), 7, ACK),
                ],
                vec![3],
            ),
            (
                "nothing after a short segment",
                vec![
                    data(seq(0), s, ACK),
                    data(seq(1), 7, ACK),
                    data(seq(1) + 7, s, ACK),
                ],
                vec![2, 1],
            ),
            (
                "PSH ends a run",
                vec![
                    data(seq(0), s, ACK),
                    data(seq(1), s, PA),
                    data(seq(2), s, ACK),
                ],
                vec![2, 1],
            ),
            (
                "a gap starts a new run",
                vec![
                    data(seq(0), s, ACK),
                    data(seq(2), s, ACK),
                    data(seq(3), s, ACK),
                ],
                vec![1, 2],
            ),
            (
                "no segment larger than the first",
                vec![data(seq(0), 1000, ACK), data(1000 + 1000, s, ACK)],
                vec![1, 1],
            ),
            (
                "odd sizes",
                vec![data(0, 999, ACK), data(999, 999, ACK), data(1998, 3, ACK)],
                vec![3],
            ),
            (
                "a bad checksum is never joined",
                vec![data(seq(0), s, ACK), bad_sum, data(seq(2), s, ACK)],
                vec![1, 1, 1],
            ),
            (
                "another TTL",
                vec![data(seq(0), s, ACK), other_ttl],
                vec![1, 1],
            ),
            (
                "IPv4 options",
                vec![data(seq(0), s, ACK), options],
                vec![1, 1],
            ),
            (
                "a FIN flushes and goes alone",
                vec![
                    data(seq(0), s, ACK),
                    data(seq(1), s, ACK),
                    data(seq(2), 10, 0x11),
                ],
                vec![2, 1],
            ),
        ];
        for (name, packets, shape) in cases {
            let writes = coalesce(&packets);
            let got: Vec<usize> = writes.iter().map(|w| resegment(w).len()).collect();
            assert_eq!(got, shape, "{name}");
            let back: Vec<Vec<u8>> = writes.iter().flat_map(resegment).collect();
            assert_eq!(
                streams(&back),
                streams(&packets),
                "{name}: every byte, in order"
            );
            for w in &writes {
                if w.0.gso_type == GSO_NONE {
                    assert!(
                        packets.contains(&w.1),
                        "{name}: a lone packet is written untouched"
                    );
                }
            }
        }
    }

    #[test]
    fn mixed_flows_in_one_batch_each_coalesce() {
        let s = 1200usize;
        let mut packets = Vec::new();
        for i in 0..6 {
            for port in [1000u16, 2000, 3000] {
                packets.push(with_ports(data(5000 + (i * s) as u32, s, TCP_ACK), port));
            }
        }
        let writes = coalesce(&packets);
        assert_eq!(writes.len(), 3, "one write per flow");
        assert!(writes
            .iter()
            .all(|w| w.0.gso_type == GSO_TCPV4 && w.0.gso_size == s as u16));
        let back: Vec<Vec<u8>> = writes.iter().flat_map(resegment).collect();
        assert_eq!(streams(&back), streams(&packets));
    }

    #[test]
    fn a_ninth_flow_flushes_the_oldest_and_other_protocols_flush_everything() {
        let mut packets: Vec<Vec<u8>> = (0..=MAX_FLOWS as u16)
            .map(|port| with_ports(data(1, 100, TCP_ACK), 1000 + port))
            .collect();
        let mut writes = coalesce(&packets);
        assert_eq!(writes.len(), MAX_FLOWS + 1);
        assert_eq!(writes[0].1, packets[0], "the oldest went first");

        let udp = crate::dataplane::ipv4::packet(
            [10, 77, 0, 1].into(),
            [10, 77, 0, 2].into(),
            &[1, 2, 3],
        );
        packets = vec![
            data(1, 100, TCP_ACK),
            data(101, 100, TCP_ACK),
            udp.clone(),
            data(201, 100, TCP_ACK),
        ];
        writes = coalesce(&packets);
        let order: Vec<usize> = writes.iter().map(|w| resegment(w).len()).collect();
        assert_eq!(order, [2, 1, 1]);
        assert_eq!(writes[1].1, udp, "the UDP packet after what came before it");
    }

    #[test]
    fn a_full_super_segment_stops_at_64_kilobytes() {
        let s = 1380usize;
        // IP IDs one up per packet, as a sender's are and as resegmenting makes them.
        let packets: Vec<Vec<u8>> = (0..60)
            .map(|i| {
                let mut p = data((i * s) as u32, s, TCP_ACK);
                let id = if i < 47 {
                    0x1000 + i as u16
                } else {
                    0x1000 + (i - 47) as u16
                };
                p[4..6].copy_from_slice(&id.to_be_bytes());
                crate::offload::split::tests::fix_checksums(&mut p);
                p
            })
            .collect();
        let writes = coalesce(&packets);
        assert!(writes.iter().all(|w| w.1.len() <= MAX_SUPER_PACKET));
        assert_eq!(writes.len(), 2);
        let back: Vec<Vec<u8>> = writes.iter().flat_map(resegment).collect();
        assert_eq!(back, packets, "segment boundaries come back exactly");
    }
}
