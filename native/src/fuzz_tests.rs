//! Property and fuzz tests of every parser the network feeds (datagrams,
//! control payloads, relay envelopes, cookie replies, the inner IPv4 header)
//! and of a running engine fed random datagrams. They run in `cargo test`
//! with a fixed seed and few cases; `PIM_FUZZ_CASES=N` runs N cases each
//! (and `PIM_FUZZ_SEED=<u64>` another seed), and every test prints how many
//! cases it ran.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::dataplane::ipv4;
use crate::proto::control::{self, Payload, MAX_ADVERT_LEN, PROBE_LEN, RELAY_HEADER_LEN};
use crate::proto::cookie;
use crate::proto::wire::{self, Message, INIT_LEN, MAC_LEN};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A runner with the fixed (or given) seed and the case count.
pub(crate) fn runner(default_cases: u32) -> (TestRunner, u32) {
    let cases = env("PIM_FUZZ_CASES", u64::from(default_cases)) as u32;
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&env("PIM_FUZZ_SEED", 0x5eed).to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    (TestRunner::new_with_rng(config, rng), cases)
}

fn run<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let (mut runner, cases) = runner(default_cases);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    eprintln!("fuzz {name}: {cases} cases");
}

/// Bytes that look like pim datagrams more often than uniform noise would:
/// a known type and reserved zeros, at the lengths the parser cares about.
pub(crate) fn datagram() -> impl Strategy<Value = Vec<u8>> {
    let lens = prop_oneof![
        Just(INIT_LEN),
        Just(INIT_LEN + MAC_LEN),
        Just(wire::RESP_LEN),
        Just(wire::COOKIE_REPLY_LEN),
        Just(wire::TRANSPORT_MIN_LEN),
        0usize..200,
    ];
    (lens, 0u8..6, any::<bool>(), any::<u64>()).prop_flat_map(|(len, ty, shaped, _)| {
        vec(any::<u8>(), len).prop_map(move |mut d| {
            if shaped && d.len() >= 4 {
                d[0] = ty;
                d[1..4].fill(0);
            }
            d
        })
    })
}

#[test]
fn wire_parse_never_panics_and_accepts_only_the_documented_shapes() {
    run("wire::parse", 2000, datagram(), |d| {
        match wire::parse(&d) {
            Err(_) => {}
            Ok(m) => {
                prop_assert_eq!(&d[1..4], &[0, 0, 0]);
                let ok = match m {
                    Message::Initiation(i) => {
                        d[0] == 1
                            && (d.len() == INIT_LEN
                                || (d.len() == INIT_LEN + MAC_LEN && i.mac2.is_some()))
                    }
                    Message::Response(_) => d[0] == 2 && d.len() == wire::RESP_LEN,
                    Message::CookieReply(_) => d[0] == 3 && d.len() == wire::COOKIE_REPLY_LEN,
                    Message::Transport(t) => {
                        d[0] == 4 && t.ciphertext.len() + wire::TRANSPORT_HEADER_LEN == d.len()
                    }
                };
                prop_assert!(ok, "accepted {:?}", m);
            }
        }
        Ok(())
    });
}

#[test]
fn control_payloads_and_relay_envelopes_classify_without_panicking() {
    let payload = prop_oneof![
        vec(any::<u8>(), 0..64),
        (0u8..6, vec(any::<u8>(), 0..1100)).prop_map(|(t, mut p)| {
            p.insert(0, t);
            p
        }),
    ];
    run("control::classify", 2000, payload, |p| {
        match control::classify(&p) {
            Payload::Keepalive => prop_assert!(p.is_empty()),
            Payload::Ipv4(b) => prop_assert_eq!(b[0] >> 4, 4),
            Payload::Probe(_) | Payload::ProbeReply(_) => prop_assert_eq!(p.len(), PROBE_LEN),
            Payload::Advert(b) => prop_assert!(!b.is_empty() && b.len() <= MAX_ADVERT_LEN),
            Payload::Relay(h, inner) => {
                prop_assert_eq!(h.ttl, p[1]);
                prop_assert_eq!(inner.len() + RELAY_HEADER_LEN, p.len());
                // The envelope's cargo is a datagram: it parses or is malformed.
                let _ = wire::parse(inner);
            }
            Payload::Unknown => {}
        }
        Ok(())
    });
}

#[test]
fn inner_ipv4_headers_parse_within_their_bounds() {
    let packet = (vec(any::<u8>(), 0..120), any::<bool>()).prop_map(|(mut p, v4)| {
        if v4 && !p.is_empty() {
            p[0] = 0x40 | (p[0] & 0x0f);
        }
        p
    });
    run("ipv4::parse", 2000, packet, |p| {
        if let Some(h) = ipv4::parse(&p) {
            prop_assert!(h.total_len <= p.len() && h.total_len >= 20);
        }
        Ok(())
    });
}

#[test]
fn a_cookie_reply_opens_only_for_its_responder_and_initiation() {
    let reply = (vec(any::<u8>(), wire::COOKIE_REPLY_LEN), any::<[u8; 16]>());
    run("cookie::open_reply", 500, reply, |(mut d, mac1)| {
        d[..4].copy_from_slice(&[wire::TYPE_COOKIE_REPLY, 0, 0, 0]);
        let Ok(Message::CookieReply(r)) = wire::parse(&d) else {
            return Err(TestCaseError::fail("a cookie reply parses"));
        };
        prop_assert!(
            cookie::open_reply(&[7; 32], &r, &mac1).is_none(),
            "random bytes never open"
        );
        Ok(())
    });
}
