//! Two tunnels driven through handshakes, data and timers in memory, with a
//! manual clock: no sockets, no sleeping.

use std::net::{Ipv4Addr, SocketAddr};

use super::endpoint::Endpoint;
use std::time::{Duration, Instant};

use super::admission::Refusal;
use super::handshake::{receive_initiation, StaticKeys};
use super::session::OpenError;
use super::tai64n::Tai64N;
use super::timers::*;
use super::tunnel::{
    Actions, CompleteError, InitiationContext, InitiationRejected, Outbound, Tunnel, TunnelEvent,
};
use super::wire::{self, Message, INIT_LEN, RESP_LEN};

struct Side {
    keys: StaticKeys,
    ip: Ipv4Addr,
    addr: Endpoint,
    tunnel: Tunnel,
    next_index: u32,
    wall: u64,
}

fn pair() -> (Side, Side) {
    let ka = StaticKeys::from_private([1; 32]);
    let kb = StaticKeys::from_private([2; 32]);
    let (ip_a, ip_b) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2));
    let (addr_a, addr_b): (SocketAddr, SocketAddr) = (
        "198.18.0.1:9100".parse().unwrap(),
        "198.18.0.2:9100".parse().unwrap(),
    );
    let (addr_a, addr_b) = (Endpoint::Udp(addr_a), Endpoint::Udp(addr_b));
    let ta = Tunnel::new(kb.public, ip_b, Some(addr_b), true);
    let tb = Tunnel::new(ka.public, ip_a, Some(addr_a), true);
    (
        Side {
            keys: ka,
            ip: ip_a,
            addr: addr_a,
            tunnel: ta,
            next_index: 100,
            wall: 1,
        },
        Side {
            keys: kb,
            ip: ip_b,
            addr: addr_b,
            tunnel: tb,
            next_index: 200,
            wall: 1,
        },
    )
}

impl Side {
    fn initiate(&mut self, now: Instant) -> [u8; INIT_LEN] {
        let mut out = [0u8; INIT_LEN];
        self.next_index += 1;
        self.wall += 1;
        let mut ts = [0u8; 12];
        ts[..8].copy_from_slice(&self.wall.to_be_bytes());
        let ctx = InitiationContext {
            keys: &self.keys,
            own_mesh_ip: self.ip,
            wall_clock: Tai64N(ts),
            local_index: self.next_index,
            jitter: Duration::ZERO,
        };
        self.tunnel.begin_initiation(ctx, now, &mut out);
        out
    }

    fn receive_init(
        &mut self,
        buf: &[u8],
        from: Endpoint,
        now: Instant,
    ) -> Result<[u8; RESP_LEN], InitiationRejected> {
        let Ok(Message::Initiation(init)) = wire::parse(buf) else {
            panic!("not an initiation")
        };
        let received = receive_initiation(&self.keys, &init).expect("valid initiation");
        assert_eq!(received.remote_public, self.tunnel.remote_public);
        let mut out = [0u8; RESP_LEN];
        self.next_index += 1;
        self.tunnel
            .accept_initiation(received, from, self.ip, self.next_index, now, &mut out)?;
        Ok(out)
    }

    fn receive_resp(
        &mut self,
        buf: &[u8],
        from: Endpoint,
        now: Instant,
    ) -> Result<Actions, CompleteError> {
        let Ok(Message::Response(resp)) = wire::parse(buf) else {
            panic!("not a response")
        };
        assert!(self.keys.own_mac1().verify(resp.mac_input, resp.mac1));
        self.tunnel.complete_handshake(&resp, from, now, |_| Ok(()))
    }

    fn seal(&mut self, payload: &[u8], now: Instant) -> Option<Vec<u8>> {
        let mut actions = Actions::default();
        match self.tunnel.outbound(payload, now, &mut actions) {
            Outbound::Send(session, _) => {
                let mut out = vec![0u8; payload.len() + 64];
                let n = session.seal(payload, &mut out, now).ok()?;
                out.truncate(n);
                Some(out)
            }
            Outbound::Queued | Outbound::NoEndpoint => None,
        }
    }

    fn open(
        &mut self,
        datagram: &[u8],
        from: Endpoint,
        now: Instant,
    ) -> Result<(Vec<u8>, Actions), OpenError> {
        let Ok(Message::Transport(t)) = wire::parse(datagram) else {
            return Err(OpenError::Decrypt);
        };
        let session = self
            .tunnel
            .receiving_session(t.receiver_index)
            .ok_or(OpenError::Decrypt)?;
        let mut out = vec![0u8; datagram.len()];
        let n = session.open(&t, &mut out, now)?;
        out.truncate(n);
        let actions = self.tunnel.after_inbound(t.receiver_index, from, now);
        Ok((out, actions))
    }
}

/// A handshakes with B and B receives A's confirming keepalive.
fn connect(a: &mut Side, b: &mut Side, now: Instant) {
    let init = a.initiate(now);
    let resp = b.receive_init(&init, a.addr, now).unwrap();
    let actions = a.receive_resp(&resp, b.addr, now).unwrap();
    assert_eq!(actions.events, vec![TunnelEvent::Connected]);
    assert!(actions.keepalive);
    let (session, _) = a.tunnel.sending_session(now).unwrap();
    let mut ka = vec![0u8; 64];
    let n = session.seal(&[], &mut ka, now).unwrap();
    let (payload, actions) = b.open(&ka[..n], a.addr, now).unwrap();
    assert!(payload.is_empty());
    assert_eq!(actions.events, vec![TunnelEvent::Connected]);
}

#[test]
fn handshake_then_data_both_ways() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    assert_eq!(a.tunnel.mesh_ip, b.ip);
    assert_eq!(b.tunnel.mesh_ip, a.ip);
    let d = a.seal(b"ping from a", t0).unwrap();
    assert_eq!(b.open(&d, a.addr, t0).unwrap().0, b"ping from a");
    let d = b.seal(b"pong from b", t0).unwrap();
    assert_eq!(a.open(&d, b.addr, t0).unwrap().0, b"pong from b");
}

#[test]
fn tampered_truncated_replayed_and_foreign_datagrams_are_rejected() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    let good = a.seal(b"secret payload", t0).unwrap();

    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(
        b.open(&tampered, a.addr, t0).unwrap_err(),
        OpenError::Decrypt
    );
    let truncated = &good[..good.len() - 3];
    assert_eq!(
        b.open(truncated, a.addr, t0).unwrap_err(),
        OpenError::Decrypt
    );
    let mut counter_moved = good.clone();
    counter_moved[9] ^= 1; // an unseen counter, so only the AEAD can refuse it
    assert_eq!(
        b.open(&counter_moved, a.addr, t0).unwrap_err(),
        OpenError::Decrypt
    );

    assert_eq!(b.open(&good, a.addr, t0).unwrap().0, b"secret payload");
    assert_eq!(b.open(&good, a.addr, t0).unwrap_err(), OpenError::Replay);

    // A third node with its own session to B cannot speak in A's session.
    let (mut c, mut b2) = pair();
    c.keys = StaticKeys::from_private([3; 32]);
    b2.tunnel = Tunnel::new(c.keys.public, c.ip, Some(c.addr), true);
    connect(&mut c, &mut b2, t0);
    c.seal(b"from c", t0).unwrap();
    c.seal(b"from c", t0).unwrap();
    let mut foreign = c.seal(b"from c", t0).unwrap(); // counter 3: unseen in A's session on B
    foreign[4..8].copy_from_slice(&good[4..8]); // aim it at A's session index on B
    assert_eq!(
        b.open(&foreign, a.addr, t0).unwrap_err(),
        OpenError::Decrypt
    );
}

#[test]
fn a_replayed_initiation_creates_no_session() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    let init = a.initiate(t0);
    b.receive_init(&init, a.addr, t0).unwrap();
    let before = b.tunnel.indices();
    assert_eq!(
        b.receive_init(&init, a.addr, t0).unwrap_err(),
        InitiationRejected::Replay
    );
    assert_eq!(b.tunnel.indices(), before);
}

#[test]
fn packets_sent_before_the_handshake_are_queued_then_flushed() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    let mut actions = Actions::default();
    for i in 0..(MAX_QUEUED_PACKETS + 3) {
        assert!(matches!(
            a.tunnel.outbound(&[i as u8], t0, &mut actions),
            Outbound::Queued
        ));
    }
    assert!(actions.initiate);
    let init = a.initiate(t0);
    let resp = b.receive_init(&init, a.addr, t0).unwrap();
    let done = a.receive_resp(&resp, b.addr, t0).unwrap();
    // The oldest packets were dropped to keep the queue bounded.
    let firsts: Vec<u8> = done.send.iter().map(|p| p[0]).collect();
    assert_eq!(
        firsts,
        (3..(MAX_QUEUED_PACKETS as u8 + 3)).collect::<Vec<_>>()
    );
    assert!(
        !done.keepalive,
        "queued data confirms the session, no keepalive needed"
    );
}

#[test]
fn retries_then_times_out_once_within_the_budget() {
    let (mut a, _b) = pair();
    let t0 = Instant::now();
    a.initiate(t0);
    assert!(!a.tunnel.tick(t0 + Duration::from_millis(900)).initiate);
    assert!(a.tunnel.tick(t0 + HANDSHAKE_RETRY).initiate);
    for s in 1..5 {
        a.initiate(t0 + Duration::from_secs(s));
    }
    let at_budget = a.tunnel.tick(t0 + HANDSHAKE_BUDGET);
    assert_eq!(at_budget.events, vec![TunnelEvent::HandshakeTimeout]);
    assert!(a.tunnel.has_failed());
    // A persistent peer keeps trying, but the failure is reported once.
    let later = a.tunnel.tick(t0 + HANDSHAKE_BUDGET + TICK);
    assert!(later.initiate);
    a.initiate(t0 + HANDSHAKE_BUDGET + TICK);
    let again = a.tunnel.tick(t0 + HANDSHAKE_BUDGET * 2 + TICK);
    assert_eq!(again.events, vec![]);
}

#[test]
fn probes_keep_an_idle_session_talking_and_a_dead_peer_is_detected() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    assert!(a.tunnel.tick(t0).probe.is_some());
    assert!(a.tunnel.tick(t0 + Duration::from_secs(4)).probe.is_none());
    assert!(
        a.tunnel.tick(t0 + PROBE_INTERVAL).probe.is_some(),
        "one probe per interval"
    );
    let dead = a.tunnel.tick(t0 + DEAD_AFTER);
    assert_eq!(dead.events, vec![TunnelEvent::Disconnected]);
    assert!(dead.initiate, "a persistent peer is redialled");
    assert!(a.tunnel.sending_session(t0 + DEAD_AFTER).is_none());
    assert!(DEAD_AFTER + TICK <= Duration::from_secs(15));
}

#[test]
fn initiator_rekeys_at_120s_and_the_previous_session_still_opens() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    let t = t0 + REKEY_AFTER_TIME;
    // Keep both sides alive so liveness does not interfere.
    let in_flight = a.seal(b"old key", t - Duration::from_secs(1)).unwrap();
    b.tunnel.after_inbound(b.tunnel.indices()[0], a.addr, t);
    a.tunnel.after_inbound(a.tunnel.indices()[0], b.addr, t);
    assert!(a.tunnel.tick(t).initiate);
    assert!(!b.tunnel.tick(t).initiate, "the responder waits longer");
    let init = a.initiate(t);
    let resp = b.receive_init(&init, a.addr, t).unwrap();
    a.receive_resp(&resp, b.addr, t).unwrap();
    let fresh = a.seal(b"new key", t).unwrap();
    assert_ne!(fresh[4..8], in_flight[4..8], "sealed under the new session");
    assert_eq!(b.open(&fresh, a.addr, t).unwrap().0, b"new key");
    assert_eq!(b.open(&in_flight, a.addr, t).unwrap().0, b"old key");
}

#[test]
fn sessions_are_refused_after_180s() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    let (session, _) = a.tunnel.sending_session(t0).unwrap();
    let late = t0 + REJECT_AFTER_TIME;
    let mut out = [0u8; 64];
    assert!(session.seal(b"x", &mut out, late).is_err());
    let ok = a.seal(b"x", t0).unwrap();
    assert_eq!(b.open(&ok, a.addr, late).unwrap_err(), OpenError::Expired);
    let retired = a.tunnel.tick(late).retired;
    assert!(retired.contains(&session.local_index));
}

#[test]
fn endpoint_follows_the_latest_authenticated_packet() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    let moved = Endpoint::Udp("198.18.5.5:40000".parse().unwrap());
    let d = a.seal(b"from a new address", t0).unwrap();
    let (_, actions) = b.open(&d, moved, t0).unwrap();
    assert_eq!(actions.events, vec![TunnelEvent::EndpointChanged]);
    assert_eq!(b.tunnel.endpoint, Some(moved));
    // A forged packet from elsewhere moves nothing.
    let mut forged = a.seal(b"x", t0).unwrap();
    *forged.last_mut().unwrap() ^= 1;
    assert!(b
        .open(
            &forged,
            Endpoint::Udp("203.0.113.66:1".parse().unwrap()),
            t0
        )
        .is_err());
    assert_eq!(b.tunnel.endpoint, Some(moved));
}

#[test]
fn simultaneous_initiations_converge() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    let ia = a.initiate(t0);
    let ib = b.initiate(t0);
    let ra = b.receive_init(&ia, a.addr, t0).unwrap();
    let rb = a.receive_init(&ib, b.addr, t0).unwrap();
    a.receive_resp(&ra, b.addr, t0).unwrap();
    b.receive_resp(&rb, a.addr, t0).unwrap();
    for _ in 0..3 {
        let d = a.seal(b"a->b", t0).unwrap();
        assert_eq!(b.open(&d, a.addr, t0).unwrap().0, b"a->b");
        let d = b.seal(b"b->a", t0).unwrap();
        assert_eq!(a.open(&d, b.addr, t0).unwrap().0, b"b->a");
    }
}

#[test]
fn a_conflicting_mesh_ip_claim_installs_nothing() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    let init = a.initiate(t0);
    let resp = b.receive_init(&init, a.addr, t0).unwrap();
    let Ok(Message::Response(r)) = wire::parse(&resp) else {
        panic!()
    };
    let refusal = Refusal::MeshIpConflict(b.keys.public, b.ip);
    let got = a
        .tunnel
        .complete_handshake(&r, b.addr, t0, |_| Err(refusal));
    assert_eq!(got.unwrap_err(), CompleteError::Refused(refusal));
    assert!(a.tunnel.sending_session(t0).is_none());
    assert!(!a.tunnel.is_connected());
}

#[test]
fn a_response_nobody_asked_for_is_not_pending() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    let init = a.initiate(t0);
    let resp = b.receive_init(&init, a.addr, t0).unwrap();
    a.receive_resp(&resp, b.addr, t0).unwrap();
    assert_eq!(
        a.receive_resp(&resp, b.addr, t0).unwrap_err(),
        CompleteError::NotPending
    );
}

#[test]
fn a_failed_rekey_on_a_working_session_is_not_a_pairing_failure() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    let t = t0 + REKEY_AFTER_TIME;
    let index = a.tunnel.indices()[0];
    a.tunnel.after_inbound(index, b.addr, t);
    a.initiate(t);
    let later = t + HANDSHAKE_BUDGET;
    a.tunnel.after_inbound(index, b.addr, later);
    let actions = a.tunnel.tick(later);
    assert!(!actions.events.contains(&TunnelEvent::HandshakeTimeout));
    assert!(!a.tunnel.has_failed());
    assert!(a.tunnel.sending_session(later).is_some());
}

#[test]
fn packets_held_for_a_handshake_that_times_out_are_counted() {
    let (mut a, _b) = pair();
    let t0 = Instant::now();
    let mut actions = Actions::default();
    for i in 0..5u8 {
        a.tunnel.outbound(&[i], t0, &mut actions);
    }
    a.initiate(t0);
    let timed_out = a.tunnel.tick(t0 + HANDSHAKE_BUDGET);
    assert_eq!(timed_out.dropped_queued, 5);
    assert_eq!(timed_out.events, vec![TunnelEvent::HandshakeTimeout]);
}

#[test]
fn a_requested_probe_needs_a_session_and_its_reply_is_reported() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    assert_eq!(a.tunnel.request_probe(t0), None, "no session yet");
    connect(&mut a, &mut b, t0);
    let nonce = a.tunnel.request_probe(t0).expect("a session");
    assert_eq!(
        a.tunnel
            .probe_answered(nonce, t0 + Duration::from_millis(4)),
        Some(Duration::from_millis(4))
    );
}

#[test]
fn a_probe_goes_out_every_interval_and_its_reply_sets_the_rtt() {
    let (mut a, mut b) = pair();
    let t0 = Instant::now();
    connect(&mut a, &mut b, t0);
    let first = a
        .tunnel
        .tick(t0)
        .probe
        .expect("a probe on the first tick of a session");
    assert!(a.tunnel.tick(t0 + PROBE_INTERVAL / 2).probe.is_none());
    let from_handshake = a.tunnel.liveness().rtt();
    a.tunnel
        .probe_answered(first + 1, t0 + Duration::from_millis(5));
    assert_eq!(
        a.tunnel.liveness().rtt(),
        from_handshake,
        "a reply to another probe is ignored"
    );
    let reported = a
        .tunnel
        .probe_answered(first, t0 + Duration::from_millis(7));
    assert_eq!(reported, None, "a periodic probe's reply is not reported");
    assert_eq!(a.tunnel.liveness().rtt(), Some(Duration::from_millis(7)));
    assert!(a.tunnel.tick(t0 + PROBE_INTERVAL).probe.is_some());
}
