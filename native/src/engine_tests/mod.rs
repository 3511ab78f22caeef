//! Engines with real threads and real UDP on loopback; the TUN device is a
//! socket pair, so these run without root. This file is the harness;
//! `forwarding` covers the data path, `trust` who gets a session, `faults`
//! what a broken thread does.

mod faults;
mod flood;
mod forwarding;
mod trust;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use std::sync::Arc;

use crate::clock::{Clock, OffsetClock};
use crate::dataplane::context::EngineIo;
use crate::engine::Engine;
use crate::event::testing::Recorder;
use crate::event::Event;
use crate::io::mem::MemTun;
use crate::proto::handshake::StaticKeys;
use crate::snapshot::{PeerSpec, PublicKey, Routing, Snapshot};
use crate::trust::{TrustMode, TrustPolicy};

pub(crate) const IP_A: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
pub(crate) const IP_B: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

pub(crate) struct Node {
    pub(crate) engine: Engine,
    pub(crate) kernel: UnixDatagram,
    events: Recorder,
    pub(crate) addr: SocketAddr,
}

pub(crate) fn snapshot(own: Ipv4Addr, peers: Vec<PeerSpec>) -> Snapshot {
    Snapshot {
        version: 1,
        mesh_ip: own,
        mesh_prefix: Ipv4Addr::new(10, 77, 0, 0),
        mesh_prefix_len: 16,
        peers,
        trust: TrustPolicy::new(TrustMode::Tofu, Default::default(), Default::default()),
        routing: Routing::default(),
        relays: Default::default(),
    }
}

fn start(seed: u8, udp: UdpSocket, snap: Snapshot) -> Node {
    start_with_clock(seed, udp, snap, Arc::new(OffsetClock::default()))
}

fn start_with_clock(seed: u8, udp: UdpSocket, snap: Snapshot, clock: Arc<dyn Clock>) -> Node {
    start_with_tun(seed, udp, snap, clock, MemTun::pair())
}

/// A node on a given stand-in TUN (offload tests use one with virtio-net headers).
pub(crate) fn start_with_tun(
    seed: u8,
    udp: UdpSocket,
    snap: Snapshot,
    clock: Arc<dyn Clock>,
    (tun, kernel): (MemTun, UnixDatagram),
) -> Node {
    kernel
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let events = Recorder::default();
    let addr = udp.local_addr().unwrap();
    let io = EngineIo {
        tun: Box::new(tun),
        udp,
        clock,
    };
    let engine = Engine::start_with_io(
        StaticKeys::from_private([seed; 32]),
        io,
        snap,
        Box::new(events.clone()),
    )
    .unwrap();
    Node {
        engine,
        kernel,
        events,
        addr,
    }
}

pub(crate) fn loopback() -> UdpSocket {
    loopback_at("127.0.0.1")
}

/// A socket on another loopback address (all of 127/8 is local on Linux),
/// so tests can play nodes at different underlay IPs.
fn loopback_at(ip: &str) -> UdpSocket {
    crate::io::udp::bind(format!("{ip}:0").parse().unwrap(), 0, true).unwrap()
}

fn key(seed: u8) -> PublicKey {
    StaticKeys::from_private([seed; 32]).public
}

pub(crate) fn peer(
    seed: u8,
    ip: Ipv4Addr,
    endpoint: Option<SocketAddr>,
    persistent: bool,
) -> PeerSpec {
    PeerSpec {
        public_key: key(seed),
        mesh_ip: ip,
        endpoint,
        via: None,
        persistent,
    }
}

/// A and B configured with each other (static peers both ways).
fn static_pair() -> (Node, Node) {
    static_pair_with_clock(Arc::new(OffsetClock::default()))
}

fn static_pair_with_clock(clock: Arc<OffsetClock>) -> (Node, Node) {
    let (ua, ub) = (loopback(), loopback());
    let (aa, ab) = (ua.local_addr().unwrap(), ub.local_addr().unwrap());
    let a = start_with_clock(
        1,
        ua,
        snapshot(IP_A, vec![peer(2, IP_B, Some(ab), true)]),
        clock.clone(),
    );
    let b = start_with_clock(
        2,
        ub,
        snapshot(IP_B, vec![peer(1, IP_A, Some(aa), true)]),
        clock,
    );
    (a, b)
}

/// Waits until `done` holds for what `read` returns; on timeout the panic
/// shows the last value read.
fn wait_until<T: std::fmt::Debug>(
    what: &str,
    mut read: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = read();
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last read {value:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether any event so far matches.
fn saw(node: &Node, f: impl Fn(&Event) -> bool) -> bool {
    node.events.0.lock().unwrap().iter().any(f)
}

/// Whether the engine has written nothing to its TUN device (yet).
fn tun_is_quiet(kernel: &UnixDatagram) -> bool {
    let mut buf = [0u8; 64];
    kernel.set_nonblocking(true).unwrap();
    let quiet = kernel.recv(&mut buf).is_err();
    kernel.set_nonblocking(false).unwrap();
    quiet
}

fn recv(kernel: &UnixDatagram) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let n = kernel
        .recv(&mut buf)
        .expect("a packet arrives through the tunnel");
    buf.truncate(n);
    buf
}
