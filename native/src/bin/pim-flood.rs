//! pim-flood: the attacker of the flood benchmark (`node dist/ts/bench/flood.js`).
//! It sends handshake-shaped datagrams at one pim node at a fixed rate from
//! many sockets, spread over one or more consecutive source addresses, built
//! with pim's own protocol code:
//!
//!   junk    random bytes of random length (mostly malformed, some of the
//!           right type and size failing mac1)
//!   mac1    initiations with random Noise bytes and a valid mac1: each
//!           costs the target a Diffie-Hellman unless it asks for a cookie
//!   valid   complete, valid initiations from many fresh identities
//!   cookie  the same, from a sender that answers cookie replies: each
//!           socket keeps its cookie and adds mac2 while it is usable
//!
//! It refuses any target, and binds no source address, outside
//! 198.18.0.0/15, the benchmarking range the bench's namespaces use, so it
//! cannot be pointed at a real network.
//!
//! usage: pim-flood <junk|mac1|valid|cookie> <ip:port> <public-key-hex>
//!        <rate/s> <seconds> <sockets> <first-source-ip> <sources> [identities]
//! Prints one line: `sent N datagrams in S s (R/s)`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

use pim_native::proto::cookie::{self, Cookie, COOKIE_USABLE};
use pim_native::proto::handshake::{initiate, StaticKeys};
use pim_native::proto::mac::Mac1Key;
use pim_native::proto::tai64n::Tai64N;
use pim_native::proto::wire::{
    self, Message, INIT_LEN, INIT_WITH_MAC2_LEN, MAC_LEN, TYPE_INITIATION,
};

/// Xorshift: the flood needs bytes fast, not good ones.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

enum Phase {
    Junk,
    Mac1(Mac1Key),
    /// Precomputed initiations, one per identity, sent in turn.
    Valid(Vec<[u8; INIT_LEN]>),
    Cookie(Answering),
}

/// The cookie phase's sender: the valid phase's initiations, plus what a
/// real initiator does with cookie replies (pim's `Tunnel::cookie_received`
/// and `Tunnel::mac2`), per socket, since a cookie binds the source address
/// and port it was sent to.
struct Answering {
    responder: [u8; 32],
    inits: Vec<[u8; INIT_LEN]>,
    /// A reply names the initiation that asked by its sender index.
    by_index: HashMap<u32, usize>,
    /// Per socket, the latest cookie and when it came.
    cookies: Vec<Option<(Cookie, Instant)>>,
}

impl Answering {
    fn new(responder: [u8; 32], inits: Vec<[u8; INIT_LEN]>, sockets: usize) -> Self {
        let by_index = inits
            .iter()
            .enumerate()
            .filter_map(|(i, init)| match wire::parse(init) {
                Ok(Message::Initiation(m)) => Some((m.sender_index, i)),
                _ => None,
            })
            .collect();
        Answering {
            responder,
            inits,
            by_index,
            cookies: vec![None; sockets],
        }
    }

    /// Keeps the cookie of every reply waiting on socket `s` that opens
    /// (responses and anything else are read and dropped).
    fn take_replies(&mut self, s: usize, sock: &UdpSocket, now: Instant, buf: &mut [u8]) {
        loop {
            // Nothing waiting (or an ICMP error): until the next send.
            let Ok(n) = sock.recv(buf) else { return };
            let Ok(Message::CookieReply(reply)) = wire::parse(&buf[..n]) else {
                continue;
            };
            let Some(&i) = self.by_index.get(&reply.receiver_index) else {
                continue;
            };
            let mac1 = self.inits[i][INIT_LEN - MAC_LEN..]
                .try_into()
                .expect("fixed size");
            if let Some(c) = cookie::open_reply(&self.responder, &reply, mac1) {
                self.cookies[s] = Some((c, now));
            }
        }
    }

    /// Writes an initiation from a random identity for socket `s` into
    /// `out`, with mac2 while the socket's cookie is usable; returns its
    /// length. Random, because A's per-source bucket lets through about one
    /// send in twenty-odd on a fixed 50 ms grid: an identity order would
    /// line those up with the same few identities, and a replay of a
    /// handshake A holds costs it a DH but no half-open entry.
    fn write(&self, s: usize, rng: &mut Rng, now: Instant, out: &mut [u8]) -> usize {
        let init = &self.inits[(rng.next() % self.inits.len() as u64) as usize];
        out[..INIT_LEN].copy_from_slice(init);
        match self.cookies[s] {
            Some((c, got)) if now.saturating_duration_since(got) < COOKIE_USABLE => {
                out[INIT_LEN..INIT_WITH_MAC2_LEN].copy_from_slice(&cookie::mac2(&c, init));
                INIT_WITH_MAC2_LEN
            }
            _ => INIT_LEN,
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("pim-flood: {message}");
    std::process::exit(2);
}

fn parse_key(hex: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    bytes
        .try_into()
        .unwrap_or_else(|_| fail("the key must be 64 hex digits"))
}

fn number(text: &str, what: &str) -> u64 {
    text.parse()
        .unwrap_or_else(|_| fail(&format!("{what} must be a whole number")))
}

/// 198.18.0.0/15 only (RFC 2544's benchmarking range).
fn benchmark_ip(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if (u32::from(v4) >> 17) == (u32::from(Ipv4Addr::new(198, 18, 0, 0)) >> 17))
}

/// `count` consecutive addresses from `first`, every one in the benchmark range.
fn source_addresses(first: &str, count: u64) -> Vec<IpAddr> {
    let first: Ipv4Addr = first
        .parse()
        .unwrap_or_else(|_| fail("the first source must be an IPv4 address"));
    let ips: Vec<IpAddr> = (0..count)
        .filter_map(|i| u32::from(first).checked_add(i as u32))
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
        .collect();
    if ips.len() as u64 != count || !ips.iter().all(|ip| benchmark_ip(*ip)) {
        fail("refusing a source address outside 198.18.0.0/15 (the benchmark's namespaces)");
    }
    ips
}

/// `n` non-blocking sockets, bound round-robin to `sources`.
fn bind_sockets(n: u64, sources: &[IpAddr]) -> Vec<UdpSocket> {
    (0..n as usize)
        .map(|i| {
            let at = SocketAddr::new(sources[i % sources.len()], 0);
            let s = UdpSocket::bind(at).unwrap_or_else(|e| fail(&format!("bind {at}: {e}")));
            // A full buffer drops the datagram: the pace is ours to keep.
            s.set_nonblocking(true).expect("non-blocking");
            s
        })
        .collect()
}

fn valid_initiations(to: &[u8; 32], identities: u64, rng: &mut Rng) -> Vec<[u8; INIT_LEN]> {
    let ts = Tai64N::from_system_time(SystemTime::now());
    (0..identities)
        .map(|i| {
            let mut private = [0u8; 32];
            rng.fill(&mut private);
            let keys = StaticKeys::from_private(private);
            let mut out = [0u8; INIT_LEN];
            // Mesh IPs spread over 10.77.0.0/16, each a host address.
            let ip = Ipv4Addr::new(10, 77, (i >> 8) as u8 + 100, (i & 0xff) as u8 | 1);
            initiate(&keys, to, rng.next() as u32, ts, ip, &mut out);
            out
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 8 {
        fail("usage: pim-flood <junk|mac1|valid|cookie> <ip:port> <public-key-hex> <rate/s> <seconds> <sockets> <first-source-ip> <sources> [identities]");
    }
    let target: SocketAddr = args[1]
        .parse()
        .unwrap_or_else(|_| fail("the target must be ip:port"));
    if !benchmark_ip(target.ip()) {
        fail("refusing a target outside 198.18.0.0/15 (the benchmark's namespaces)");
    }
    let key = parse_key(&args[2]);
    let rate = number(&args[3], "rate").max(1);
    let seconds = number(&args[4], "seconds");
    let ports = number(&args[5], "sockets").clamp(1, 1024);
    let sources = source_addresses(&args[6], number(&args[7], "sources").clamp(1, 1024));
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("the OS random source works");
    let mut rng = Rng(u64::from_le_bytes(seed) | 1);
    let identities = args.get(8).map_or(2000, |t| number(t, "identities")).max(1);
    let mut phase = match args[0].as_str() {
        "junk" => Phase::Junk,
        "mac1" => Phase::Mac1(Mac1Key::for_receiver(&key)),
        "valid" => Phase::Valid(valid_initiations(&key, identities, &mut rng)),
        "cookie" => Phase::Cookie(Answering::new(
            key,
            valid_initiations(&key, identities, &mut rng),
            ports as usize,
        )),
        other => fail(&format!("unknown phase {other:?}")),
    };
    let socks = bind_sockets(ports, &sources);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut sent = 0u64;
    let mut buf = [0u8; 256];
    // Cookie replies are 64 bytes; anything longer is not one.
    let mut inbox = [0u8; 256];
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let due = (now - start).as_micros() as u64 * rate / 1_000_000;
        while sent < due {
            let s = (sent % ports) as usize;
            let len = match &mut phase {
                Phase::Junk => {
                    rng.fill(&mut buf);
                    1 + (rng.next() % 200) as usize
                }
                Phase::Mac1(mac1) => {
                    rng.fill(&mut buf[..INIT_LEN]);
                    buf[..4].copy_from_slice(&[TYPE_INITIATION, 0, 0, 0]);
                    let mac = mac1.compute(&buf[..INIT_LEN - MAC_LEN]);
                    buf[INIT_LEN - MAC_LEN..INIT_LEN].copy_from_slice(&mac);
                    INIT_LEN
                }
                Phase::Valid(inits) => {
                    buf[..INIT_LEN].copy_from_slice(&inits[(sent % inits.len() as u64) as usize]);
                    INIT_LEN
                }
                Phase::Cookie(answering) => {
                    // The reply to this socket's last initiation, if any,
                    // before its next one, as an initiator's retry would.
                    answering.take_replies(s, &socks[s], now, &mut inbox);
                    answering.write(s, &mut rng, now, &mut buf)
                }
            };
            let _ = socks[s].send_to(&buf[..len], target);
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let took = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} datagrams in {took:.1} s ({:.0}/s)",
        sent as f64 / took
    );
}
