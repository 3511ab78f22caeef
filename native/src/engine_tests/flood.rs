//! Under attack (docs/PROTOCOL.md §4.10, §4.11): strangers get a peer only
//! with key confirmation, unconfirmed handshakes expire, idle dynamic peers
//! are collected, and under a flood of handshakes a legitimate peer still
//! gets in with a cookie.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::*;
use crate::dataplane::registry::{DYNAMIC_IDLE_AFTER, MAX_DYNAMIC_PEERS};
use crate::proto::handshake::{self, Initiation};
use crate::proto::mac::Mac1Key;
use crate::proto::tai64n::Tai64N;
use crate::proto::timers::{DEAD_AFTER, HANDSHAKE_BUDGET};
use crate::proto::wire::{self, Message, INIT_LEN, MAC_LEN};

const STRANGER_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 50);

/// A node played by hand: it initiates and confirms when told to.
struct Stranger {
    keys: StaticKeys,
    sock: UdpSocket,
    mesh_ip: Ipv4Addr,
}

impl Stranger {
    fn new(seed: u8) -> Self {
        Self::with_key([seed; 32], STRANGER_IP)
    }

    fn with_key(private: [u8; 32], mesh_ip: Ipv4Addr) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        Stranger {
            keys: StaticKeys::from_private(private),
            sock,
            mesh_ip,
        }
    }

    /// Sends an initiation to `node` and returns the session its response
    /// completes.
    fn handshake(&self, node: &Node) -> crate::proto::session::Session {
        let mut buf = [0u8; INIT_LEN];
        let ts = Tai64N::from_system_time(SystemTime::now());
        // Every test's node here is seed 1.
        let to = key(1);
        let ini: Initiation = handshake::initiate(&self.keys, &to, 77, ts, self.mesh_ip, &mut buf);
        self.sock.send_to(&buf, node.addr).unwrap();
        let mut resp = [0u8; 256];
        // Skip what A sends an earlier stranger that had this port.
        let r = loop {
            let n = self.sock.recv(&mut resp).expect("a response");
            if let Ok(Message::Response(r)) = wire::parse(&resp[..n]) {
                break r;
            }
        };
        ini.complete(&r, Instant::now())
            .expect("a valid response")
            .session
    }

    fn keepalive(&self, session: &crate::proto::session::Session, node: &Node) {
        let mut out = [0u8; 64];
        let n = session.seal(&[], &mut out, Instant::now()).unwrap();
        self.sock.send_to(&out[..n], node.addr).unwrap();
    }
}

fn has_peer(node: &Node, seed: u8) -> bool {
    node.engine
        .peers()
        .iter()
        .any(|p| p.public_key == key(seed))
}

#[test]
fn a_stranger_gets_a_peer_and_its_mesh_ip_only_when_its_first_message_confirms_the_key() {
    let a = start(1, loopback(), snapshot(IP_A, vec![]));
    let s = Stranger::new(5);
    let session = s.handshake(&a);
    assert!(!has_peer(&a, 5), "answered, but no peer yet");
    assert_eq!(a.engine.stats().handshake_responses_sent, 1);
    s.keepalive(&session, &a);
    wait_for("the confirmed stranger to become a peer", || {
        has_peer(&a, 5)
    });
    let p = a
        .engine
        .peers()
        .into_iter()
        .find(|p| p.public_key == key(5))
        .unwrap();
    assert_eq!(p.mesh_ip, STRANGER_IP, "its claim is committed now");
    wait_for("connected", || {
        saw(
            &a,
            |e| matches!(e, Event::Connected { public_key, .. } if *public_key == key(5)),
        )
    });
    assert_eq!(a.engine.stats().keepalives_received, 1);
}

#[test]
fn an_unconfirmed_handshake_expires_with_the_budget_and_a_late_confirmation_is_refused() {
    let clock = Arc::new(OffsetClock::default());
    let a = start_with_clock(1, loopback(), snapshot(IP_A, vec![]), clock.clone());
    let s = Stranger::new(5);
    let session = s.handshake(&a);
    clock.advance(HANDSHAKE_BUDGET);
    wait_for("the half-open handshake to expire", || {
        a.engine.stats().half_open_expired == 1
    });
    s.keepalive(&session, &a);
    wait_for("the late confirmation to be dropped", || {
        a.engine.stats().drop_unknown_index == 1
    });
    assert!(!has_peer(&a, 5));
}

#[test]
fn a_dialled_in_peer_down_and_idle_is_collected() {
    let clock = Arc::new(OffsetClock::default());
    let a = start_with_clock(1, loopback(), snapshot(IP_A, vec![]), clock.clone());
    let s = Stranger::new(5);
    let session = s.handshake(&a);
    s.keepalive(&session, &a);
    wait_for("the stranger to become a peer", || has_peer(&a, 5));
    clock.advance(DEAD_AFTER);
    wait_for("it to be declared down", || {
        saw(&a, |e| *e == Event::Disconnected { public_key: key(5) })
    });
    assert!(has_peer(&a, 5), "down but not yet idle long enough");
    clock.advance(DYNAMIC_IDLE_AFTER);
    wait_for("it to be collected", || !has_peer(&a, 5));
    assert_eq!(a.engine.stats().peers_collected, 1);
}

/// mac1-valid initiations whose Noise part is random: each costs the
/// responder a Diffie-Hellman unless it asks for a cookie first. About
/// 1,000 a second: more than the worker's Diffie-Hellmans in a debug build,
/// less than the inbound thread answers with cookies even on a busy machine,
/// so the test is about the gate, not about the socket buffer overflowing.
fn flood(to: PublicKey, at: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let sock = loopback_at("127.0.0.3");
        let mac1 = Mac1Key::for_receiver(&to);
        let mut d = [0u8; INIT_LEN];
        let mut sent = 0u64;
        while !stop.load(Ordering::Relaxed) {
            d[0] = wire::TYPE_INITIATION;
            getrandom::fill(&mut d[4..INIT_LEN - MAC_LEN]).unwrap();
            let mac = mac1.compute(&d[..INIT_LEN - MAC_LEN]);
            d[INIT_LEN - MAC_LEN..].copy_from_slice(&mac);
            let _ = sock.send_to(&d, at);
            sent += 1;
            if sent.is_multiple_of(10) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        sent
    })
}

#[test]
fn under_a_flood_of_initiations_a_legitimate_peer_gets_in_with_a_cookie() {
    // Only B dials, so it gets in through A's gate or not at all.
    let ua = loopback();
    let aa = ua.local_addr().unwrap();
    let a = start(1, ua, snapshot(IP_A, vec![]));
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = flood(key(1), aa, stop.clone());
    wait_for("A to be under load", || {
        a.engine.stats().cookie_replies_sent > 0
    });
    let b = start(
        2,
        loopback_at("127.0.0.2"),
        snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]),
    );
    wait_for("B to connect through the flood", || {
        saw(
            &b,
            |e| matches!(e, Event::Connected { public_key, .. } if *public_key == key(1)),
        )
    });
    stop.store(true, Ordering::Relaxed);
    let sent = flooder.join().unwrap();
    let (sa, sb) = (a.engine.stats(), b.engine.stats());
    assert!(sb.cookies_received >= 1, "B was asked for a cookie: {sb:?}");
    assert!(sa.drop_needs_cookie > 0 && sa.drop_needs_cookie < sent);
    assert!(saw(&a, |e| matches!(
        e,
        Event::LimitReached {
            limit: "handshake_load",
            ..
        }
    )));
    // B, and nothing of the flood, became a peer.
    wait_for("B to be A's peer", || has_peer(&a, 2));
    assert_eq!(a.engine.peers().len(), 1);
}

#[test]
fn random_datagrams_are_each_dropped_and_counted_once_and_change_nothing() {
    use proptest::strategy::{Strategy, ValueTree};
    let a = start(1, loopback(), snapshot(IP_A, vec![]));
    let (mut runner, cases) = crate::fuzz_tests::runner(300);
    let junk = UdpSocket::bind("127.0.0.1:0").unwrap();
    let strategy = crate::fuzz_tests::datagram();
    for i in 0..cases {
        let d = strategy.new_tree(&mut runner).unwrap().current();
        junk.send_to(&d, a.addr).unwrap();
        if i % 50 == 49 {
            // Paced, so the test measures the engine, not the socket buffer.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let drops = |s: &crate::stats::StatsSnapshot| -> u64 {
        s.entries()
            .iter()
            .filter(|(n, _)| n.starts_with("drop_"))
            .map(|(_, v)| v)
            .sum()
    };
    wait_until(
        "every datagram to be counted",
        || a.engine.stats(),
        |s| drops(s) == u64::from(cases),
    );
    eprintln!("fuzz engine datagrams: {cases} cases");
    assert!(a.engine.peers().is_empty());
    assert_eq!(a.engine.stats().handshake_responses_sent, 0);
}

#[test]
fn at_most_max_dynamic_peers_dial_in_and_the_next_is_refused_and_reported() {
    use crate::dataplane::registry::Peer;
    use crate::proto::tunnel::Tunnel;
    let a = start(1, loopback(), snapshot(IP_A, vec![]));
    // All but one of the places taken by peers that dialled in before
    // (persistent, so the collector leaves these never-heard stand-ins be).
    {
        let mut reg = a.engine.context().registry_mut();
        for i in 0..MAX_DYNAMIC_PEERS as u32 - 1 {
            let mut k = [0x40; 32];
            k[..4].copy_from_slice(&i.to_le_bytes());
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 77, 8, 1)) + i);
            reg.insert(Peer::new(Tunnel::new(k, ip, None, true), false), ip);
        }
    }
    let last = Stranger::new(5);
    let session = last.handshake(&a);
    last.keepalive(&session, &a);
    wait_for("the last place to be taken", || has_peer(&a, 5));
    let late = Stranger::with_key([6; 32], Ipv4Addr::new(10, 77, 0, 60));
    late.sock
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; INIT_LEN];
    let ts = Tai64N::from_system_time(SystemTime::now());
    handshake::initiate(&late.keys, &key(1), 1, ts, late.mesh_ip, &mut buf);
    late.sock.send_to(&buf, a.addr).unwrap();
    wait_for("the refusal", || a.engine.stats().drop_peer_limit == 1);
    assert!(saw(&a, |e| matches!(
        e,
        Event::LimitReached {
            limit: "dynamic_peers",
            ..
        }
    )));
    assert!(late.sock.recv(&mut [0u8; 256]).is_err(), "no response");
    assert_eq!(a.engine.peers().len(), MAX_DYNAMIC_PEERS);
}
