//! Published Noise test vectors for `Noise_IK_25519_ChaChaPoly_SHA256`, run
//! through pim's own handshake builder (`noise_builder`) and transport
//! `Session`, so the suite, key handling, prologue and counter-as-nonce
//! framing are checked against bytes pim did not produce itself.
//!
//! The vectors live in `testdata/noise_ik_vectors.txt` (source, licence and
//! format are described at the top of that file): the Cacophony vector is an
//! independent reference; the snow vector is snow's own regression output.

use std::time::Instant;

use super::handshake::{noise_builder, x25519_public, NOISE_PARAMS};
use super::session::Session;
use super::wire::{self, Message, TRANSPORT_HEADER_LEN, TYPE_TRANSPORT};

const VECTORS: &str = include_str!("testdata/noise_ik_vectors.txt");

#[derive(Default)]
struct Vector {
    source: String,
    protocol_name: String,
    init_prologue: Vec<u8>,
    init_static: Vec<u8>,
    init_ephemeral: Vec<u8>,
    init_remote_static: Vec<u8>,
    resp_prologue: Vec<u8>,
    resp_static: Vec<u8>,
    resp_ephemeral: Vec<u8>,
    handshake_hash: Option<Vec<u8>>,
    /// (payload, ciphertext), in the order of the source file.
    messages: Vec<(Vec<u8>, Vec<u8>)>,
}

fn hex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    assert!(s.len().is_multiple_of(2), "odd-length hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("valid hex"))
        .collect()
}

fn key(bytes: &[u8]) -> [u8; 32] {
    bytes.try_into().expect("a 32-byte X25519 key")
}

fn parse(text: &str) -> Vec<Vector> {
    let mut vectors = Vec::new();
    let mut current: Option<Vector> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let field = words.next().expect("non-empty line");
        let args: Vec<&str> = words.collect();
        if field == "vector" {
            assert!(current.is_none(), "line {}: unterminated vector", n + 1);
            current = Some(Vector {
                source: args.join(" "),
                ..Vector::default()
            });
            continue;
        }
        let v = current
            .as_mut()
            .unwrap_or_else(|| panic!("line {}: field outside a vector", n + 1));
        match (field, args.as_slice()) {
            ("end", []) => vectors.push(current.take().expect("inside a vector")),
            ("protocol_name", [name]) => v.protocol_name = (*name).to_string(),
            ("init_prologue", [h]) => v.init_prologue = hex(h),
            ("init_static", [h]) => v.init_static = hex(h),
            ("init_ephemeral", [h]) => v.init_ephemeral = hex(h),
            ("init_remote_static", [h]) => v.init_remote_static = hex(h),
            ("resp_prologue", [h]) => v.resp_prologue = hex(h),
            ("resp_static", [h]) => v.resp_static = hex(h),
            ("resp_ephemeral", [h]) => v.resp_ephemeral = hex(h),
            ("handshake_hash", [h]) => v.handshake_hash = Some(hex(h)),
            ("message", [p, c]) => v.messages.push((hex(p), hex(c))),
            _ => panic!("line {}: unexpected {line:?}", n + 1),
        }
    }
    assert!(current.is_none(), "unterminated vector at end of file");
    vectors
}

/// Runs one vector: both handshake messages through `noise_builder` states,
/// then every transport message through a pair of `Session`s.
fn check(v: &Vector) {
    let src = v.source.as_str();
    assert_eq!(v.protocol_name, NOISE_PARAMS, "[{src}] suite");
    assert!(
        v.messages.len() >= 2,
        "[{src}] IK needs two handshake messages"
    );

    let init_static = key(&v.init_static);
    let resp_static = key(&v.resp_static);
    // The fixture's idea of the responder's public key is X25519 of its
    // private key, so a key-derivation slip cannot hide behind the vector.
    assert_eq!(
        v.init_remote_static,
        x25519_public(&resp_static),
        "[{src}] init_remote_static"
    );

    let mut init = noise_builder(&init_static, &v.init_prologue)
        .fixed_ephemeral_key_for_testing_only(&v.init_ephemeral)
        .remote_public_key(&v.init_remote_static)
        .and_then(|b| b.build_initiator())
        .expect("the vector builds an IK initiator");
    let mut resp = noise_builder(&resp_static, &v.resp_prologue)
        .fixed_ephemeral_key_for_testing_only(&v.resp_ephemeral)
        .build_responder()
        .expect("the vector builds an IK responder");

    let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
    let mut plain = vec![0u8; wire::MAX_DATAGRAM_LEN];

    // Message 0: initiator -> responder (e, es, s, ss).
    let (payload, ciphertext) = &v.messages[0];
    let n = init
        .write_message(payload, &mut buf)
        .expect("write message 0");
    assert_eq!(&buf[..n], &ciphertext[..], "[{src}] message 0 ciphertext");
    let m = resp
        .read_message(&buf[..n], &mut plain)
        .expect("read message 0");
    assert_eq!(&plain[..m], &payload[..], "[{src}] message 0 payload");
    assert_eq!(
        resp.get_remote_static(),
        Some(&x25519_public(&init_static)[..]),
        "[{src}] responder learns the initiator's static key"
    );

    // Message 1: responder -> initiator (e, ee, se).
    let (payload, ciphertext) = &v.messages[1];
    let n = resp
        .write_message(payload, &mut buf)
        .expect("write message 1");
    assert_eq!(&buf[..n], &ciphertext[..], "[{src}] message 1 ciphertext");
    let m = init
        .read_message(&buf[..n], &mut plain)
        .expect("read message 1");
    assert_eq!(&plain[..m], &payload[..], "[{src}] message 1 payload");

    assert!(init.is_handshake_finished() && resp.is_handshake_finished());
    assert_eq!(init.get_handshake_hash(), resp.get_handshake_hash());
    if let Some(h) = &v.handshake_hash {
        assert_eq!(init.get_handshake_hash(), &h[..], "[{src}] handshake hash");
    }

    let now = Instant::now();
    let (init_index, resp_index) = (0x0102_0304, 0xa0b0_c0d0);
    let init = Session::new(
        init.into_stateless_transport_mode().expect("transport"),
        init_index,
        resp_index,
        true,
        now,
    );
    let resp = Session::new(
        resp.into_stateless_transport_mode().expect("transport"),
        resp_index,
        init_index,
        false,
        now,
    );

    // Transport: senders keep alternating, initiator first (message 2).
    let mut sent = [0u64; 2]; // per direction: [initiator, responder]
    for (i, (payload, ciphertext)) in v.messages.iter().enumerate().skip(2) {
        let from_initiator = i.is_multiple_of(2);
        let (sender, receiver) = if from_initiator {
            (&init, &resp)
        } else {
            (&resp, &init)
        };
        let counter = &mut sent[usize::from(!from_initiator)];

        let n = sender.seal(payload, &mut buf, now).expect("seal");
        let datagram = &buf[..n];
        assert_eq!(
            &datagram[..4],
            &[TYPE_TRANSPORT, 0, 0, 0],
            "[{src}] message {i} type"
        );
        assert_eq!(
            &datagram[TRANSPORT_HEADER_LEN..],
            &ciphertext[..],
            "[{src}] message {i} ciphertext"
        );
        let Ok(Message::Transport(t)) = wire::parse(datagram) else {
            panic!("[{src}] message {i}: not a transport datagram");
        };
        assert_eq!(
            t.receiver_index, receiver.local_index,
            "[{src}] message {i}"
        );
        assert_eq!(t.counter, *counter, "[{src}] message {i} counter (= nonce)");
        *counter += 1;

        let m = receiver.open(&t, &mut plain, now).expect("open");
        assert_eq!(&plain[..m], &payload[..], "[{src}] message {i} payload");
    }
    assert_eq!(init.sent(), sent[0]);
    assert_eq!(resp.sent(), sent[1]);
}

#[test]
fn noise_ik_vectors_through_pim_builder_and_sessions() {
    let vectors = parse(VECTORS);
    let sources: Vec<&str> = vectors.iter().map(|v| v.source.as_str()).collect();
    assert_eq!(sources, ["cacophony", "snow"], "the fixture's vectors");
    for v in &vectors {
        check(v);
    }
}

#[test]
fn noise_ik_vector_fails_with_pim_prologue() {
    // Sanity check that the vectors really exercise the prologue passed to
    // noise_builder: with pim's own prologue, message 0 no longer matches.
    let v = &parse(VECTORS)[0];
    let init_static = key(&v.init_static);
    let mut init = noise_builder(&init_static, super::handshake::PROLOGUE)
        .fixed_ephemeral_key_for_testing_only(&v.init_ephemeral)
        .remote_public_key(&v.init_remote_static)
        .and_then(|b| b.build_initiator())
        .expect("initiator");
    let mut buf = [0u8; 256];
    let n = init
        .write_message(&v.messages[0].0, &mut buf)
        .expect("write");
    assert_eq!(n, v.messages[0].1.len());
    assert_ne!(&buf[..n], &v.messages[0].1[..]);
}
