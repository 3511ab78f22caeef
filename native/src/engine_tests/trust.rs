//! Who gets a session: the trust decision in both handshake directions and
//! on every snapshot apply, and snapshots that are refused whole.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::*;
use crate::dataplane::ipv4::packet;
use crate::error::EngineError;
use crate::proto::admission::testing::low_order_initiation;
use crate::proto::endpoint::Endpoint;
use crate::proto::handshake::receive_initiation;
use crate::proto::wire::{self, Message, RESP_LEN};
use crate::snapshot::{node_id, NodeId};

const STRANGER: u8 = 9;

fn policy(mode: TrustMode, explicit: &[u8], pins: &[(&str, u8)]) -> TrustPolicy {
    let explicit: HashSet<NodeId> = explicit.iter().map(|&s| node_id(&key(s))).collect();
    let pins: HashMap<IpAddr, NodeId> = pins
        .iter()
        .map(|&(ip, s)| (ip.parse().unwrap(), node_id(&key(s))))
        .collect();
    TrustPolicy::new(mode, explicit, pins)
}

fn version(v: u32, s: Snapshot) -> Snapshot {
    Snapshot { version: v, ..s }
}

/// A with `trust` and no peers; B (key 2) at `b_ip` dials it and sends a
/// packet. Returns both once A has admitted or refused B.
fn dial_in(trust: TrustPolicy, b_ip: &str) -> (Node, Node, bool) {
    let ua = loopback();
    let aa = ua.local_addr().unwrap();
    let a = start(
        1,
        ua,
        Snapshot {
            trust,
            ..snapshot(IP_A, vec![])
        },
    );
    let b = start(
        2,
        loopback_at(b_ip),
        snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]),
    );
    b.kernel.send(&packet(IP_B, IP_A, b"dial in")).unwrap();
    let b_key = key(2);
    wait_for("A to admit or refuse B", || {
        saw(
            &a,
            |e| matches!(e, Event::Connected { public_key, .. } | Event::Untrusted { public_key, .. } if *public_key == b_key),
        )
    });
    let admitted = saw(&a, |e| matches!(e, Event::Connected { .. }));
    (a, b, admitted)
}

#[test]
fn an_initiation_is_admitted_or_refused_by_the_trust_rules() {
    use TrustMode::*;
    let cases = [
        (
            "tofu admits a stranger at an address nobody is pinned to",
            policy(Tofu, &[], &[("127.0.0.9", 3)]),
            true,
        ),
        (
            "tofu refuses a stranger at an IP pinned to another node, whatever its port",
            policy(Tofu, &[], &[("127.0.0.1", 3)]),
            false,
        ),
        (
            "tofu admits a known node that roamed to another node's pinned IP",
            policy(Tofu, &[], &[("127.0.0.9", 2), ("127.0.0.1", 3)]),
            true,
        ),
        (
            "tofu admits an explicit node anywhere",
            policy(Tofu, &[2], &[("127.0.0.1", 3)]),
            true,
        ),
        (
            "allow_list refuses a node that is not explicit",
            policy(AllowList, &[3], &[]),
            false,
        ),
        (
            "allow_list admits an explicit node",
            policy(AllowList, &[2], &[]),
            true,
        ),
        (
            "allow_all admits anyone",
            policy(AllowAll, &[], &[("127.0.0.1", 3)]),
            true,
        ),
    ];
    for (rule, trust, want) in cases {
        let (a, b, admitted) = dial_in(trust, "127.0.0.1");
        assert_eq!(admitted, want, "{rule}");
        if admitted {
            assert_eq!(recv(&a.kernel), packet(IP_B, IP_A, b"dial in"), "{rule}");
        } else {
            assert!(a.engine.peers().is_empty(), "{rule}: no peer was created");
            assert!(
                saw(
                    &a,
                    |e| matches!(e, Event::Untrusted { source, .. } if *source == Endpoint::Udp(b.addr))
                ),
                "{rule}"
            );
        }
    }
}

#[test]
fn a_tightened_allow_list_revokes_a_dialled_in_peer_and_never_rekeys_it() {
    // A and C share a clock that the test moves past every rekey deadline;
    // C is an explicit peer whose rekey proves A's timers ran.
    let clock = Arc::new(OffsetClock::default());
    let (ua, uc) = (loopback(), loopback());
    let (aa, ac) = (ua.local_addr().unwrap(), uc.local_addr().unwrap());
    let ip_c = Ipv4Addr::new(10, 77, 0, 3);
    let a_peers = vec![peer(3, ip_c, Some(ac), true)];
    let a_trust = policy(TrustMode::Tofu, &[3], &[]);
    let a = start_with_clock(
        1,
        ua,
        Snapshot {
            trust: a_trust,
            ..snapshot(IP_A, a_peers.clone())
        },
        clock.clone(),
    );
    let c = start_with_clock(
        3,
        uc,
        snapshot(ip_c, vec![peer(1, IP_A, Some(aa), true)]),
        clock.clone(),
    );
    let b = start(
        2,
        loopback(),
        snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]),
    );
    b.kernel.send(&packet(IP_B, IP_A, b"dial in")).unwrap();
    recv(&a.kernel);
    a.kernel.send(&packet(IP_A, ip_c, b"to C")).unwrap();
    recv(&c.kernel);

    // The allow_list now holds only C: B dialled in, and is refused now.
    let tightened = Snapshot {
        trust: policy(TrustMode::AllowList, &[3], &[]),
        ..version(2, snapshot(IP_A, a_peers))
    };
    a.engine.apply(tightened).unwrap();
    assert!(
        saw(&a, |e| *e == Event::Revoked { public_key: key(2) }),
        "reported at once"
    );
    assert!(a.engine.peers().iter().all(|p| p.public_key != key(2)));
    assert_eq!(a.engine.stats().peers_revoked, 1);

    // B still holds its session: what it sends is dropped, unopened.
    let dropped = a.engine.stats().drop_unknown_index;
    b.kernel
        .send(&packet(IP_B, IP_A, b"after revocation"))
        .unwrap();
    wait_for("A to drop B's packet", || {
        a.engine.stats().drop_unknown_index > dropped
    });
    assert!(tun_is_quiet(&a.kernel), "nothing from B reached A's TUN");

    // Past every rekey deadline: A rekeys C, and never B.
    let completed = a.engine.stats().handshakes_completed;
    clock.advance(Duration::from_secs(135));
    wait_for("A to rekey C", || {
        a.engine.stats().handshakes_completed > completed
    });
    // Anything A sent B in that tick is in B's socket queue before this
    // junk; once B has counted the junk, it has seen everything before it.
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(&[0xff; 8], b.addr)
        .unwrap();
    wait_for("B to read its queue", || {
        b.engine.stats().drop_malformed == 1
    });
    let bs = b.engine.stats();
    assert_eq!(
        (bs.handshake_responses_sent, bs.drop_bad_mac),
        (0, 0),
        "A sent B no initiation"
    );
}

/// Answers one of A's initiations with B's key, from `from`.
fn respond_as_b(
    initiations: &UdpSocket,
    from: &UdpSocket,
    to: SocketAddr,
    before_sending: impl FnOnce(),
) {
    let mut buf = [0u8; 256];
    initiations
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let n = initiations.recv(&mut buf).expect("A initiates");
    let Ok(Message::Initiation(init)) = wire::parse(&buf[..n]) else {
        panic!("not an initiation")
    };
    let received = receive_initiation(&StaticKeys::from_private([2; 32]), &init).unwrap();
    let mut resp = [0u8; RESP_LEN];
    received.respond(77, IP_B, Instant::now(), &mut resp);
    before_sending();
    from.send_to(&resp, to).unwrap();
}

#[test]
fn a_response_from_a_now_untrusted_source_is_refused() {
    // B is listed (tofu, first use) at 127.0.0.1. While A's initiation is
    // out, a snapshot pins 127.0.0.2 to another node, and B's response
    // comes from there.
    let b_in = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b_out = UdpSocket::bind("127.0.0.2:0").unwrap();
    let listed = vec![peer(2, IP_B, Some(b_in.local_addr().unwrap()), true)];
    let a = start(1, loopback(), snapshot(IP_A, listed.clone()));
    let pinned = Snapshot {
        trust: policy(TrustMode::Tofu, &[], &[("127.0.0.2", STRANGER)]),
        ..version(2, snapshot(IP_A, listed))
    };
    respond_as_b(&b_in, &b_out, a.addr, || a.engine.apply(pinned).unwrap());
    wait_for("A to refuse the response", || {
        a.engine.stats().drop_untrusted == 1
    });
    let src = Endpoint::Udp(b_out.local_addr().unwrap());
    assert!(saw(&a, |e| *e
        == Event::Untrusted {
            public_key: key(2),
            source: src
        }));
    assert!(
        !saw(&a, |e| matches!(e, Event::Connected { .. })),
        "no session was installed"
    );
}

#[test]
fn a_low_order_static_key_is_refused_even_under_allow_all() {
    let a = start(
        1,
        loopback(),
        Snapshot {
            trust: policy(TrustMode::AllowAll, &[], &[]),
            ..snapshot(IP_A, vec![])
        },
    );
    let impostor = loopback();
    impostor
        .send_to(&low_order_initiation(&key(1)), a.addr)
        .unwrap();
    wait_for("A to reject it", || {
        a.engine.stats().drop_handshake_rejected == 1
    });
    let src = Endpoint::Udp(impostor.local_addr().unwrap());
    assert!(saw(&a, |e| *e == Event::HandshakeRejected { source: src }));
    assert!(a.engine.peers().is_empty());
}

#[test]
fn a_snapshot_with_a_collision_leaves_policy_and_peers_exactly_as_they_were() {
    // D dialled in and claimed IP_B. The new snapshot would switch to an
    // allow_list and add P at IP_B: the collision refuses all of it.
    let (a, _d, admitted) = dial_in(policy(TrustMode::Tofu, &[], &[]), "127.0.0.1");
    assert!(admitted);
    recv(&a.kernel);
    let view = |n: &Node| -> Vec<_> {
        n.engine
            .peers()
            .into_iter()
            .map(|p| (p.public_key, p.mesh_ip, p.endpoint, p.configured, p.state))
            .collect()
    };
    let before = view(&a);
    let colliding = Snapshot {
        trust: policy(TrustMode::AllowList, &[2, 3], &[]),
        ..version(2, snapshot(IP_A, vec![peer(3, IP_B, None, false)]))
    };
    match a.engine.apply(colliding) {
        Err(EngineError::InvalidSnapshot(m)) => assert!(m.contains("held by"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(view(&a), before, "peers unchanged");
    assert_eq!(a.engine.applied_version(), Some(1));
    // The policy too: a stranger is still admitted under the old tofu.
    let e = start(
        STRANGER,
        loopback(),
        snapshot(
            Ipv4Addr::new(10, 77, 0, 9),
            vec![peer(1, IP_A, Some(a.addr), true)],
        ),
    );
    e.kernel
        .send(&packet(Ipv4Addr::new(10, 77, 0, 9), IP_A, b"still tofu"))
        .unwrap();
    assert_eq!(
        recv(&a.kernel),
        packet(Ipv4Addr::new(10, 77, 0, 9), IP_A, b"still tofu")
    );
}

#[test]
fn snapshot_versions_must_strictly_increase() {
    let a = start(1, loopback(), snapshot(IP_A, vec![]));
    let cases = [
        ("repeated", 1, false),
        ("older", 0, false),
        ("newer", 2, true),
        ("the same again", 2, false),
        ("with a gap", 7, true),
    ];
    for (rule, v, ok) in cases {
        let got = a.engine.apply(version(v, snapshot(IP_A, vec![])));
        match (got, ok) {
            (Ok(()), true) => {}
            (Err(EngineError::StaleSnapshot { offered, .. }), false) => {
                assert_eq!(offered, v, "{rule}")
            }
            (got, _) => panic!("{rule}: {got:?}"),
        }
    }
    assert_eq!(a.engine.applied_version(), Some(7));
}

#[test]
fn a_listed_peer_the_new_policy_refuses_is_revoked_and_one_it_admits_just_goes() {
    // A lists B and C (allow_list); the new snapshot lists neither, and keeps
    // only C in the allow_list: B is revoked, C merely dropped.
    let ip_c = Ipv4Addr::new(10, 77, 0, 3);
    let (ua, ub, uc) = (loopback(), loopback(), loopback());
    let aa = ua.local_addr().unwrap();
    let listed = vec![
        peer(2, IP_B, Some(ub.local_addr().unwrap()), true),
        peer(3, ip_c, Some(uc.local_addr().unwrap()), true),
    ];
    let trust = policy(TrustMode::AllowList, &[2, 3], &[]);
    let a = start(
        1,
        ua,
        Snapshot {
            trust,
            ..snapshot(IP_A, listed)
        },
    );
    let b = start(2, ub, snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]));
    let c = start(3, uc, snapshot(ip_c, vec![peer(1, IP_A, Some(aa), true)]));
    for (n, ip) in [(&b, IP_B), (&c, ip_c)] {
        n.kernel.send(&packet(ip, IP_A, b"up")).unwrap();
        recv(&a.kernel);
    }
    let next = Snapshot {
        trust: policy(TrustMode::AllowList, &[3], &[]),
        ..version(2, snapshot(IP_A, vec![]))
    };
    a.engine.apply(next).unwrap();
    assert!(saw(&a, |e| *e == Event::Revoked { public_key: key(2) }));
    assert!(!saw(&a, |e| *e == Event::Revoked { public_key: key(3) }));
    assert!(a.engine.peers().is_empty(), "both are gone");
    assert_eq!(a.engine.stats().peers_revoked, 1);
}

#[test]
fn junk_failing_mac1_never_drowns_a_real_untrusted_refusal() {
    // A flood of initiation-sized junk (each a handshake_rejected event) and
    // then a stranger at an IP pinned to another node: its refusal still
    // reaches the control plane.
    let trust = policy(TrustMode::Tofu, &[], &[("127.0.0.1", 3)]);
    let a = start(
        1,
        loopback(),
        Snapshot {
            trust,
            ..snapshot(IP_A, vec![])
        },
    );
    let junk = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut datagram = [0u8; wire::INIT_LEN];
    datagram[0] = 1;
    for i in 0..300u32 {
        datagram[4..8].copy_from_slice(&i.to_le_bytes());
        junk.send_to(&datagram, a.addr).unwrap();
        if i % 50 == 0 {
            // Paced, so the test measures the engine, not the socket buffer.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    wait_for("the junk to be counted", || {
        a.engine.stats().drop_bad_mac == 300
    });
    assert!(
        a.engine.stats().events_dropped >= 250,
        "the junk's events were capped"
    );
    let b = start(
        2,
        loopback(),
        snapshot(IP_B, vec![peer(1, IP_A, Some(a.addr), true)]),
    );
    b.kernel.send(&packet(IP_B, IP_A, b"let me in")).unwrap();
    wait_for("the refusal to be reported", || {
        saw(
            &a,
            |e| matches!(e, Event::Untrusted { public_key, .. } if *public_key == key(2)),
        )
    });
}
