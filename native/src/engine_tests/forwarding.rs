//! The data path: handshakes, packets both ways, gateways, relays, rekeys.

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::clock::OffsetClock;
use crate::dataplane::ipv4::packet;
use crate::engine::PeerState;
use crate::event::Event;
use crate::proto::endpoint::Endpoint;
use crate::proto::handshake::StaticKeys;
use crate::proto::timers::TICK;
use crate::snapshot::{node_id, Cidr, PeerSpec, Snapshot};
use crate::trust::{TrustMode, TrustPolicy};

#[test]
fn static_peers_connect_and_carry_packets_both_ways() {
    let (a, b) = static_pair();
    let ping = packet(IP_A, IP_B, b"echo request payload");
    a.kernel.send(&ping).unwrap();
    assert_eq!(
        recv(&b.kernel),
        ping,
        "queued until the handshake, then delivered"
    );
    let pong = packet(IP_B, IP_A, b"echo reply payload");
    b.kernel.send(&pong).unwrap();
    assert_eq!(recv(&a.kernel), pong);
    wait_for("both sides active", || {
        a.engine
            .peers()
            .iter()
            .all(|p| p.state == PeerState::Active)
            && b.engine
                .peers()
                .iter()
                .all(|p| p.state == PeerState::Active)
    });
    let pa = &a.engine.peers()[0];
    assert_eq!(pa.endpoint, Some(b.addr));
    assert!(pa.last_handshake_ms.is_some() && pa.tx_bytes >= ping.len() as u64);
    assert!(a
        .events
        .take()
        .iter()
        .any(|e| matches!(e, Event::Connected { mesh_ip, .. } if *mesh_ip == IP_B)));
}

#[test]
fn a_node_without_static_peers_accepts_a_dial_in() {
    let (ua, ub) = (loopback(), loopback());
    let aa = ua.local_addr().unwrap();
    let a = start(1, ua, snapshot(IP_A, vec![]));
    let b = start(2, ub, snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]));
    let p = packet(IP_B, IP_A, b"hello a");
    b.kernel.send(&p).unwrap();
    assert_eq!(recv(&a.kernel), p);
    let reply = packet(IP_A, IP_B, b"hello b");
    a.kernel.send(&reply).unwrap();
    assert_eq!(
        recv(&b.kernel),
        reply,
        "A routes to the dial-in peer's claimed mesh IP"
    );
    let listed = a.engine.peers();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].configured);
    assert_eq!(listed[0].endpoint, Some(b.addr));
}

#[test]
fn a_wrong_public_key_is_rejected_by_one_side_and_times_out_on_the_other() {
    let (ua, ub) = (loopback(), loopback());
    let aa = ua.local_addr().unwrap();
    let a = start(1, ua, snapshot(IP_A, vec![]));
    // B believes A's key is that of node 9.
    let b = start(2, ub, snapshot(IP_B, vec![peer(9, IP_A, Some(aa), true)]));
    wait_for("A to report the rejected handshake", || {
        a.events
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::HandshakeRejected { source } if *source == Endpoint::Udp(b.addr)))
    });
    wait_for("B to time out", || {
        b.events
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::HandshakeTimeout { .. }))
    });
    assert!(a.engine.stats().drop_bad_mac >= 1);
    assert_eq!(b.engine.peers()[0].state, PeerState::Failed);
}

#[test]
fn garbage_datagrams_are_counted_and_change_nothing() {
    let (a, b) = static_pair();
    a.kernel.send(&packet(IP_A, IP_B, b"warm up")).unwrap();
    recv(&b.kernel);
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut junk = [0u8; 200];
    for i in 0..500u32 {
        junk[0] = (i % 6) as u8;
        junk[4..8].copy_from_slice(&i.to_le_bytes());
        let len = [0, 3, 31, 32, 80, 136, 200][i as usize % 7];
        attacker.send_to(&junk[..len], a.addr).unwrap();
        if i % 50 == 0 {
            // Paced, so the test measures the engine, not the socket buffer.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    wait_for("every junk datagram to be counted", || {
        let s = a.engine.stats();
        s.drop_malformed + s.drop_bad_mac + s.drop_unknown_index >= 500
    });
    let p = packet(IP_A, IP_B, b"still works");
    a.kernel.send(&p).unwrap();
    assert_eq!(recv(&b.kernel), p);
}

#[test]
fn a_peer_cannot_spoof_another_source_address() {
    let (a, b) = static_pair();
    let spoofed = packet(Ipv4Addr::new(10, 77, 9, 9), IP_B, b"not from A");
    a.kernel.send(&packet(IP_A, IP_B, b"warm up")).unwrap();
    recv(&b.kernel);
    // The outbound side routes by destination, so A's engine seals it; B must refuse it.
    a.kernel.send(&spoofed).unwrap();
    wait_for("B to count the spoofed source", || {
        b.engine.stats().drop_source_mismatch == 1
    });
}

#[test]
fn stop_joins_every_thread_promptly() {
    let (mut a, _b) = static_pair();
    let t = Instant::now();
    a.engine.stop();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_long_transfer_across_several_rekeys_never_stalls() {
    let clock = Arc::new(OffsetClock::default());
    let (a, b) = static_pair_with_clock(clock.clone());
    // 45 steps of 10 s: 450 s of protocol time, three rekeys, sessions expiring.
    for step in 0..45u32 {
        let there = packet(IP_A, IP_B, &step.to_le_bytes());
        a.kernel.send(&there).unwrap();
        assert_eq!(recv(&b.kernel), there, "A to B at step {step}");
        let back = packet(IP_B, IP_A, &step.to_le_bytes());
        b.kernel.send(&back).unwrap();
        assert_eq!(recv(&a.kernel), back, "B to A at step {step}");
        clock.advance(Duration::from_secs(10));
        // Let the timer thread see the new time, and any rekey it starts
        // finish, before time jumps again (a real handshake takes
        // milliseconds; a 10 s jump in the middle would be a timeout).
        std::thread::sleep(TICK * 2);
        wait_for("handshakes to settle", || {
            a.engine
                .peers()
                .iter()
                .chain(b.engine.peers().iter())
                .all(|p| !p.handshaking)
        });
    }
    let completed = a.engine.stats().handshakes_completed + b.engine.stats().handshakes_completed;
    assert!(
        completed >= 6,
        "rekeyed: {completed} sessions installed in all"
    );
    for node in [&a, &b] {
        let events = node.events.take();
        assert!(
            !events.iter().any(|e| matches!(
                e,
                Event::Disconnected { .. } | Event::HandshakeTimeout { .. }
            )),
            "{events:?}"
        );
    }
}

#[test]
fn latency_is_measured_on_both_sides() {
    let (a, b) = static_pair();
    a.kernel.send(&packet(IP_A, IP_B, b"warm up")).unwrap();
    recv(&b.kernel);
    // Each side answers the other's probe, so both measure a round trip,
    // including the side that only responded to the handshake.
    wait_for(
        "both sides to answer a probe and have a round-trip time",
        || {
            a.engine.stats().probes_received >= 1
                && b.engine.stats().probes_received >= 1
                && a.engine.peers()[0].rtt_ms.is_some()
                && b.engine.peers()[0].rtt_ms.is_some()
        },
    );
}

#[test]
fn a_probe_asked_for_is_answered_as_probe_reply_and_periodic_ones_stay_silent() {
    let (a, b) = static_pair();
    assert!(!a.engine.probe(&key(7)), "no such peer");
    a.kernel.send(&packet(IP_A, IP_B, b"warm up")).unwrap();
    recv(&b.kernel);
    // B (the responder) has a round trip only once its periodic probe is
    // answered: that reply is not reported.
    wait_for("B's periodic probe to be answered", || {
        b.engine.peers()[0].rtt_ms.is_some()
    });
    assert!(!saw(&b, |e| matches!(e, Event::ProbeReply { .. })));
    assert!(a.engine.probe(&key(2)));
    wait_for("the requested probe's reply", || {
        saw(
            &a,
            |e| matches!(e, Event::ProbeReply { public_key, .. } if *public_key == key(2)),
        )
    });
    assert!(
        !saw(&b, |e| matches!(e, Event::ProbeReply { .. })),
        "only the asker hears it"
    );
}

const INTERNET: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);

/// A client (A, routing via B) and a gateway (B).
fn client_and_gateway(b_is_gateway: bool) -> (Node, Node) {
    client_and_gateway_blocking(b_is_gateway, vec![])
}

fn client_and_gateway_blocking(b_is_gateway: bool, blocked: Vec<Cidr>) -> (Node, Node) {
    client_and_gateway_lan(b_is_gateway, blocked, None)
}

/// `lan`: the gateway lets explicit peers reach `blocked`, and trusts A explicitly (Some(true)) or not.
fn client_and_gateway_lan(
    b_is_gateway: bool,
    blocked: Vec<Cidr>,
    lan: Option<bool>,
) -> (Node, Node) {
    let (ua, ub) = (loopback(), loopback());
    let (aa, ab) = (ua.local_addr().unwrap(), ub.local_addr().unwrap());
    let b_key = StaticKeys::from_private([2; 32]).public;
    let mut sa = snapshot(IP_A, vec![peer(2, IP_B, Some(ab), true)]);
    // A gateway is always a node the user trusts explicitly.
    sa.trust = TrustPolicy::new(
        TrustMode::Tofu,
        [node_id(&b_key)].into(),
        Default::default(),
    );
    sa.routing.internet_via = Some(b_key);
    let mut sb = snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]);
    sb.routing.gateway = b_is_gateway;
    sb.routing.gateway_blocked = blocked;
    if let Some(a_explicit) = lan {
        sb.routing.gateway_lan_explicit = true;
        let a_key = StaticKeys::from_private([1; 32]).public;
        let explicit = if a_explicit {
            [node_id(&a_key)].into()
        } else {
            Default::default()
        };
        sb.trust = TrustPolicy::new(TrustMode::Tofu, explicit, Default::default());
    }
    (start(1, ua, sa), start(2, ub, sb))
}

#[test]
fn internet_traffic_goes_to_the_selected_gateway_and_its_answers_come_back() {
    let (a, b) = client_and_gateway(true);
    let out = packet(IP_A, INTERNET, b"to the internet");
    a.kernel.send(&out).unwrap();
    assert_eq!(recv(&b.kernel), out, "the gateway hands it to its OS");
    let back = packet(INTERNET, IP_A, b"from the internet");
    b.kernel.send(&back).unwrap();
    assert_eq!(
        recv(&a.kernel),
        back,
        "the client accepts the gateway's internet sources"
    );
}

#[test]
fn a_node_that_is_not_a_gateway_does_not_forward_and_others_cannot_speak_for_the_internet() {
    let (a, b) = client_and_gateway(false);
    a.kernel.send(&packet(IP_A, INTERNET, b"x")).unwrap();
    wait_for("B to refuse to forward", || {
        b.engine.stats().drop_not_for_us == 1
    });
    // A routes via B, so B may answer for the internet; A may not, towards B.
    b.kernel.send(&packet(IP_B, IP_A, b"warm up")).unwrap();
    recv(&a.kernel);
    a.kernel.send(&packet(INTERNET, IP_B, b"spoofed")).unwrap();
    wait_for("B to refuse an internet source from a non-gateway", || {
        b.engine.stats().drop_internet_source == 1
    });
}

#[test]
fn a_gateway_forwards_to_the_internet_only_never_to_its_blocked_destinations() {
    let cidr = |s: &str, len| Cidr {
        network: s.parse().unwrap(),
        len,
    };
    // The gateway host's own address and its LAN.
    let blocked = vec![cidr("198.18.0.7", 32), cidr("192.168.1.0", 24)];
    let (a, b) = client_and_gateway_blocking(true, blocked);
    let cases = [
        ("the gateway host's own address", "198.18.0.7", false),
        ("a host on the gateway's LAN", "192.168.1.20", false),
        ("the host next to its own address", "198.18.0.8", true),
        ("the internet", "203.0.113.9", true),
    ];
    for (rule, dst, forwarded) in cases {
        let blocked_before = b.engine.stats().drop_gateway_blocked;
        let p = packet(IP_A, dst.parse().unwrap(), rule.as_bytes());
        a.kernel.send(&p).unwrap();
        if forwarded {
            assert_eq!(recv(&b.kernel), p, "{rule}");
        } else {
            wait_for(rule, || {
                b.engine.stats().drop_gateway_blocked == blocked_before + 1
            });
        }
    }
    assert!(
        tun_is_quiet(&b.kernel),
        "nothing blocked reached the gateway's OS"
    );
}

#[test]
fn with_allow_lan_only_an_explicit_peer_reaches_the_gateways_lan() {
    let lan = Cidr {
        network: "192.168.1.0".parse().unwrap(),
        len: 24,
    };
    let to_lan = packet(IP_A, "192.168.1.20".parse().unwrap(), b"to the LAN");
    let (a, b) = client_and_gateway_lan(true, vec![lan], Some(true));
    a.kernel.send(&to_lan).unwrap();
    assert_eq!(recv(&b.kernel), to_lan, "an explicit peer gets through");

    let (a, b) = client_and_gateway_lan(true, vec![lan], Some(false));
    a.kernel.send(&to_lan).unwrap();
    wait_for("a peer admitted on first use to be refused", || {
        b.engine.stats().drop_gateway_blocked == 1
    });
    assert!(tun_is_quiet(&b.kernel), "nothing reached the gateway's OS");
}

#[test]
fn with_no_gateway_internet_packets_are_dropped_and_answered_with_icmp() {
    let (a, _b) = static_pair();
    let out = packet(IP_A, INTERNET, b"must not leave");
    a.kernel.send(&out).unwrap();
    let reply = recv(&a.kernel);
    assert_eq!(
        (reply[9], reply[20], reply[21]),
        (1, 3, 13),
        "ICMP destination unreachable, administratively prohibited"
    );
    assert_eq!(
        &reply[16..20],
        &IP_A.octets(),
        "addressed to the local sender"
    );
    wait_for("the ICMP reply to be counted", || {
        a.engine.stats().icmp_unreachable_sent == 1
    });
    let s = a.engine.stats();
    assert_eq!(
        (s.drop_no_gateway, s.tx_packets),
        (1, 0),
        "dropped, nothing sent"
    );
}

#[test]
fn advertisements_reach_the_peers_control_plane_rate_limited() {
    let (a, b) = static_pair();
    a.kernel.send(&packet(IP_A, IP_B, b"warm up")).unwrap();
    recv(&b.kernel);
    let b_key = StaticKeys::from_private([2; 32]).public;
    assert!(a
        .engine
        .send_control(&b_key, b"{\"roles\":[\"gateway\"]}")
        .unwrap());
    wait_for("B to report the advertisement", || {
        b.events.0.lock().unwrap().iter().any(|e| matches!(e, Event::Control { payload, .. } if payload == b"{\"roles\":[\"gateway\"]}"))
    });
    for _ in 0..50 {
        a.engine.send_control(&b_key, b"flood").unwrap();
    }
    wait_for("the flood to be counted", || {
        b.engine.stats().drop_advert_flood >= 30
    });
    assert!(
        a.engine.send_control(&b_key, &[]).is_err(),
        "an empty advertisement is refused"
    );
}

fn relayed(seed: u8, ip: Ipv4Addr, via: u8) -> PeerSpec {
    PeerSpec {
        public_key: key(seed),
        mesh_ip: ip,
        endpoint: None,
        via: Some(key(via)),
        persistent: true,
    }
}

const IP_R: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 3);

#[test]
fn a_relay_carries_an_end_to_end_session_it_cannot_read() {
    // Line topology A (1) — R (3) — B (2): A and B are not neighbours.
    let (ua, ur, ub) = (loopback(), loopback(), loopback());
    let (aa, ar, ab) = (
        ua.local_addr().unwrap(),
        ur.local_addr().unwrap(),
        ub.local_addr().unwrap(),
    );
    let a = start(
        1,
        ua,
        snapshot(
            IP_A,
            vec![peer(3, IP_R, Some(ar), true), relayed(2, IP_B, 3)],
        ),
    );
    let mut sr = snapshot(
        IP_R,
        vec![peer(1, IP_A, Some(aa), true), peer(2, IP_B, Some(ab), true)],
    );
    sr.relays = [(node_id(&key(1)), key(1)), (node_id(&key(2)), key(2))].into();
    let r = start(3, ur, sr);
    let b = start(
        2,
        ub,
        snapshot(
            IP_B,
            vec![peer(3, IP_R, Some(ar), true), relayed(1, IP_A, 3)],
        ),
    );

    let there = packet(IP_A, IP_B, b"end to end through R");
    a.kernel.send(&there).unwrap();
    assert_eq!(recv(&b.kernel), there);
    let back = packet(IP_B, IP_A, b"and back");
    b.kernel.send(&back).unwrap();
    assert_eq!(recv(&a.kernel), back);
    let rs = r.engine.stats();
    assert!(
        rs.forwarded_packets >= 4,
        "handshake and data were relayed: {}",
        rs.forwarded_packets
    );
    assert_eq!(rs.rx_packets, 0, "nothing reached R's own TUN");
    let pb = a
        .engine
        .peers()
        .into_iter()
        .find(|p| p.public_key == key(2))
        .unwrap();
    assert_eq!(
        (pb.via, pb.endpoint, pb.state),
        (Some(key(3)), None, PeerState::Active)
    );
}

#[test]
fn a_forwarding_loop_ends_when_the_ttl_runs_out() {
    // Three neighbours whose forwarding tables send a destination round in a
    // circle: A → R1 → R2 → A → … The TTL, not luck, ends it.
    let (ua, u1, u2) = (loopback(), loopback(), loopback());
    let (aa, a1, a2) = (
        ua.local_addr().unwrap(),
        u1.local_addr().unwrap(),
        u2.local_addr().unwrap(),
    );
    let ghost = node_id(&key(9));
    let ip = |n| Ipv4Addr::new(10, 77, 0, n);
    let mut sa = snapshot(
        ip(1),
        vec![
            peer(3, ip(3), Some(a1), true),
            peer(4, ip(4), Some(a2), true),
            // Dialled only when traffic needs it, as the control plane lists relayed nodes.
            PeerSpec {
                persistent: false,
                ..relayed(9, ip(9), 3)
            },
        ],
    );
    sa.relays = [(ghost, key(3))].into();
    let mut s1 = snapshot(
        ip(3),
        vec![
            peer(1, ip(1), Some(aa), true),
            peer(4, ip(4), Some(a2), true),
        ],
    );
    s1.relays = [(ghost, key(4))].into();
    let mut s2 = snapshot(
        ip(4),
        vec![
            peer(1, ip(1), Some(aa), true),
            peer(3, ip(3), Some(a1), true),
        ],
    );
    s2.relays = [(ghost, key(1))].into();
    let (a, n1, n2) = (start(1, ua, sa), start(3, u1, s1), start(4, u2, s2));
    for (x, from, to) in [(&a, ip(1), ip(3)), (&a, ip(1), ip(4)), (&n1, ip(3), ip(4))] {
        x.kernel.send(&packet(from, to, b"warm up")).unwrap();
    }
    // Connected, and no handshake between neighbours still in flight: A's
    // initiations from here on are all for the ghost.
    wait_for("the triangle to connect", || {
        [&a, &n1, &n2].iter().all(|n| {
            n.engine
                .peers()
                .iter()
                .filter(|p| p.state == PeerState::Active && !p.handshaking)
                .count()
                >= 2
        })
    });
    // Every initiation for the ghost goes round until its TTL is spent. It
    // makes exactly TTL−1 forwarding hops, then expires; the counters are
    // read once every initiation A sent has expired (retries may still be
    // on their way round when the first one expires). A loop the TTL did
    // not end would keep forwarding and never meet the count.
    let initiated = || a.engine.stats().handshakes_initiated;
    let before = initiated();
    a.kernel.send(&packet(ip(1), ip(9), b"to nobody")).unwrap();
    let hops = u64::from(crate::proto::control::RELAY_TTL - 1);
    let sum = |f: fn(&Node) -> u64| [&a, &n1, &n2].iter().map(|n| f(n)).sum::<u64>();
    // Read in this order: an initiation sent after `expired` was read makes
    // `sent` larger, never equal.
    let read = || {
        let forwarded = sum(|n| n.engine.stats().forwarded_packets);
        let expired = sum(|n| n.engine.stats().drop_ttl_expired);
        (forwarded, expired, initiated() - before)
    };
    wait_until(
        "every initiation to make TTL-1 hops and expire (forwarded, expired, sent)",
        read,
        |&(forwarded, expired, sent)| sent >= 1 && expired == sent && forwarded == hops * expired,
    );
}

#[test]
fn a_burst_of_several_batches_arrives_complete_and_in_order() {
    let (a, b) = static_pair();
    a.kernel.send(&packet(IP_A, IP_B, b"warm up")).unwrap();
    recv(&b.kernel);
    // Three full batches and a partial one, queued before the engine reads any.
    let count = 3 * crate::io::batch::BATCH + 5;
    let sent: Vec<Vec<u8>> = (0..count as u32)
        .map(|i| packet(IP_A, IP_B, &i.to_be_bytes()))
        .collect();
    for p in &sent {
        a.kernel.send(p).unwrap();
    }
    let got: Vec<Vec<u8>> = (0..count).map(|_| recv(&b.kernel)).collect();
    assert_eq!(got, sent);
}

#[test]
fn a_peer_that_dialled_in_keeps_its_session_when_a_snapshot_lists_it() {
    let (ua, ub) = (loopback(), loopback());
    let (aa, _) = (ua.local_addr().unwrap(), ub.local_addr().unwrap());
    let a = start(1, ua, snapshot(IP_A, vec![]));
    let b = start(2, ub, snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]));
    b.kernel.send(&packet(IP_B, IP_A, b"dial in")).unwrap();
    recv(&a.kernel);
    let before = a.engine.stats().handshakes_completed;
    // A's control plane now lists B (say, trusted or routed): same peer, same session.
    a.engine
        .apply(Snapshot {
            version: 2,
            ..snapshot(IP_A, vec![peer(2, IP_B, Some(b.addr), true)])
        })
        .unwrap();
    let p = packet(IP_A, IP_B, b"straight away");
    a.kernel.send(&p).unwrap();
    assert_eq!(recv(&b.kernel), p);
    assert_eq!(
        a.engine.stats().handshakes_completed,
        before,
        "no new handshake was needed"
    );
    assert!(a.engine.peers()[0].configured);
}
