//! pim-flood: the attacker of the flood benchmark (`node dist/ts/bench/flood.js`).
//! It sends handshake-shaped datagrams at one pim node at a fixed rate from
//! many source ports, built with pim's own protocol code:
//!
//!   junk   random bytes of random length (mostly malformed, some of the
//!          right type and size failing mac1)
//!   mac1   initiations with random Noise bytes and a valid mac1: each
//!          costs the target a Diffie-Hellman unless it asks for a cookie
//!   valid  complete, valid initiations from many fresh identities
//!
//! It refuses any target outside 198.18.0.0/15, the benchmarking range the
//! bench's namespaces use, so it cannot be pointed at a real network.
//!
//! usage: pim-flood <junk|mac1|valid> <ip:port> <public-key-hex> <rate/s>
//!        <seconds> <ports> [identities]
//! Prints one line: `sent N datagrams in S s (R/s)`.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

use pim_native::proto::handshake::{initiate, StaticKeys};
use pim_native::proto::mac::Mac1Key;
use pim_native::proto::tai64n::Tai64N;
use pim_native::proto::wire::{INIT_LEN, MAC_LEN, TYPE_INITIATION};

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
fn benchmark_target(addr: &SocketAddr) -> bool {
    matches!(addr, SocketAddr::V4(v4) if (u32::from(*v4.ip()) >> 17) == (u32::from(Ipv4Addr::new(198, 18, 0, 0)) >> 17))
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
    if args.len() < 6 {
        fail("usage: pim-flood <junk|mac1|valid> <ip:port> <public-key-hex> <rate/s> <seconds> <ports> [identities]");
    }
    let target: SocketAddr = args[1]
        .parse()
        .unwrap_or_else(|_| fail("the target must be ip:port"));
    if !benchmark_target(&target) {
        fail("refusing a target outside 198.18.0.0/15 (the benchmark's namespaces)");
    }
    let key = parse_key(&args[2]);
    let rate = number(&args[3], "rate").max(1);
    let seconds = number(&args[4], "seconds");
    let ports = number(&args[5], "ports").clamp(1, 1024);
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("the OS random source works");
    let mut rng = Rng(u64::from_le_bytes(seed) | 1);
    let mut phase = match args[0].as_str() {
        "junk" => Phase::Junk,
        "mac1" => Phase::Mac1(Mac1Key::for_receiver(&key)),
        "valid" => {
            let n = args.get(6).map_or(2000, |t| number(t, "identities")).max(1);
            Phase::Valid(valid_initiations(&key, n, &mut rng))
        }
        other => fail(&format!("unknown phase {other:?}")),
    };
    let socks: Vec<UdpSocket> = (0..ports)
        .map(|_| {
            let s = UdpSocket::bind("0.0.0.0:0").unwrap_or_else(|e| fail(&format!("bind: {e}")));
            // A full buffer drops the datagram: the pace is ours to keep.
            s.set_nonblocking(true).expect("non-blocking");
            s
        })
        .collect();
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut sent = 0u64;
    let mut buf = [0u8; 256];
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let due = (now - start).as_micros() as u64 * rate / 1_000_000;
        while sent < due {
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
            };
            let sock = &socks[(sent % ports) as usize];
            let _ = sock.send_to(&buf[..len], target);
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
