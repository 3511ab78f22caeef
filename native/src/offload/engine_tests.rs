//! The engine with offloads: two nodes on loopback (where the kernel does
//! UDP GSO and GRO), their TUN stand-ins speaking virtio-net headers or not.

use std::os::unix::net::UnixDatagram;
use std::sync::Arc;

use super::split::tests::{checksums_ok, super_segment, tcp_packet};
use super::split::Segments;
use super::{VnetHdr, GSO_TCPV4, VNET_HDR_LEN};
use crate::clock::OffsetClock;
use crate::engine_tests::{loopback, peer, snapshot, start_with_tun, wait_for, Node, IP_A, IP_B};
use crate::io::mem::MemTun;

fn tun(offload: bool) -> (MemTun, UnixDatagram) {
    if offload {
        MemTun::pair_offload()
    } else {
        MemTun::pair()
    }
}

/// A and B static peers of each other; `a`/`b` say whose TUN has offloads.
fn pair(a: bool, b: bool) -> (Node, Node) {
    let (ua, ub) = (loopback(), loopback());
    let (aa, ab) = (ua.local_addr().unwrap(), ub.local_addr().unwrap());
    let clock = Arc::new(OffsetClock::default());
    let na = start_with_tun(
        1,
        ua,
        snapshot(IP_A, vec![peer(2, IP_B, Some(ab), true)]),
        clock.clone(),
        tun(a),
    );
    let nb = start_with_tun(
        2,
        ub,
        snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]),
        clock,
        tun(b),
    );
    (na, nb)
}

fn send_vnet(kernel: &UnixDatagram, hdr: &VnetHdr, packet: &[u8]) {
    kernel.send(&[&hdr.encode()[..], packet].concat()).unwrap();
}

/// One write into a TUN stand-in with offloads: its header and packet.
fn recv_vnet(kernel: &UnixDatagram) -> (VnetHdr, Vec<u8>) {
    let mut buf = vec![0u8; 70_000];
    let n = kernel
        .recv(&mut buf)
        .expect("a write arrives through the tunnel");
    let hdr = VnetHdr::decode(buf[..VNET_HDR_LEN].try_into().unwrap());
    (hdr, buf[VNET_HDR_LEN..n].to_vec())
}

fn recv_plain(kernel: &UnixDatagram) -> Vec<u8> {
    let mut buf = vec![0u8; 70_000];
    let n = kernel
        .recv(&mut buf)
        .expect("a packet arrives through the tunnel");
    buf[..n].to_vec()
}

fn payload_of(p: &[u8]) -> &[u8] {
    let ihl = usize::from(p[0] & 0x0f) * 4;
    &p[ihl + usize::from(p[ihl + 12] >> 4) * 4..]
}

fn warm_up(a: &Node, b: &Node, b_offload: bool) {
    let p = tcp_packet(1, 0x10, b"warm up", &[], &[]);
    send_vnet(&a.kernel, &VnetHdr::NONE, &p);
    let got = if b_offload {
        recv_vnet(&b.kernel)
    } else {
        (VnetHdr::NONE, recv_plain(&b.kernel))
    };
    assert_eq!(got, (VnetHdr::NONE, p));
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_super_segment_from_the_tun_reaches_a_peer_without_offloads_as_whole_segments() {
    let (a, b) = pair(true, false);
    warm_up(&a, &b, false);
    assert_eq!(a.engine.stats().offload_tun, 1);
    assert_eq!(b.engine.stats().offload_tun, 0);
    let body = data(20_000);
    let (hdr, p) = super_segment(&body, 1380, 0x18, &[], &[]);
    send_vnet(&a.kernel, &hdr, &p);
    let mut got = Vec::new();
    let mut segments = 0;
    while got.len() < body.len() {
        let s = recv_plain(&b.kernel);
        assert!(checksums_ok(&s), "segment {segments} has valid checksums");
        assert!(s.len() <= 1420, "no segment above the tunnel MTU");
        got.extend_from_slice(payload_of(&s));
        segments += 1;
    }
    assert_eq!(got, body);
    assert_eq!(segments, 15);
}

#[test]
fn segments_of_one_flow_reach_a_tun_with_offloads_as_one_write() {
    let (a, b) = pair(true, true);
    warm_up(&a, &b, true);
    for n in [&a, &b] {
        let s = n.engine.stats();
        assert_eq!(
            (s.offload_tun, s.offload_udp_gso, s.offload_udp_gro),
            (1, 1, 1),
            "loopback has UDP GSO and GRO"
        );
    }
    let body = data(20_000);
    let (hdr, p) = super_segment(&body, 1380, 0x18, &[], &[]);
    send_vnet(&a.kernel, &hdr, &p);
    // The 15 datagrams leave in one segmented send, arrive in one read and
    // are written joined.
    let (hdr, joined) = recv_vnet(&b.kernel);
    assert_eq!((hdr.gso_type, hdr.gso_size), (GSO_TCPV4, 1380));
    let mut segments = Segments::new(&hdr, &joined, 1500).unwrap();
    let mut out = vec![0u8; 1500];
    let mut got = Vec::new();
    while let Some(n) = segments.next_into(&mut out) {
        assert!(checksums_ok(&out[..n]));
        got.extend_from_slice(payload_of(&out[..n]));
    }
    assert_eq!(got, body);
}

#[test]
fn an_offload_header_that_does_not_match_its_packet_is_dropped_and_counted() {
    let (a, b) = pair(true, false);
    warm_up(&a, &b, false);
    let (hdr, p) = super_segment(&data(5000), 1380, 0x10, &[], &[]);
    send_vnet(
        &a.kernel,
        &VnetHdr {
            csum_start: 30,
            ..hdr
        },
        &p,
    );
    send_vnet(&a.kernel, &VnetHdr { gso_type: 3, ..hdr }, &p);
    wait_for("the bad reads to be counted", || {
        a.engine.stats().drop_bad_offload == 2
    });
    let after = tcp_packet(9, 0x10, b"still works", &[], &[]);
    send_vnet(&a.kernel, &VnetHdr::NONE, &after);
    assert_eq!(recv_plain(&b.kernel), after);
}
