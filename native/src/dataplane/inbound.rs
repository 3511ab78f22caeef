//! Inbound: UDP → TUN, on its own thread.
//!
//! 1. recv datagrams (non-blocking; poll with the stop waker when idle); with
//!    UDP GRO one buffer may hold several of one sender, cut apart here
//! 2. parse the header; anything malformed is counted and dropped
//! 3. handshakes pass the `gate` (mac1, cookies under load, no DH) into the
//!    handshake worker's bounded queue; transport messages:
//! 4. find the peer by receiver index (the registry's routes, no lock) and
//!    the session under its lock; open it (replay window, AEAD). An index
//!    no peer holds may be a half-open handshake's: its first message
//!    confirms it and makes the peer (`confirm`)
//! 5. liveness/roaming/key confirmation under the peer's lock
//! 6. what the plaintext is: a relay envelope for another node goes to
//!    `relay`; one for us holds a datagram that goes round 2–6 once more, as
//!    if it had arrived from the socket (a second pass, never a third:
//!    envelopes do not nest); an IP packet must come from the peer's mesh IP
//!    (or the internet, from the selected gateway) and be for us (or, on a
//!    gateway, for the internet, outside `gateway_blocked`)
//! 7. write it to the TUN (through `Tx`, which joins segments of one TCP
//!    flow into one write when the device's offloads are on)

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::io::waker::Wait;
use crate::proto::control::{self, Payload, RELAY_HEADER_LEN};
use crate::proto::endpoint::Endpoint;
use crate::proto::session::OpenError;
use crate::proto::wire::{self, Message};
use crate::snapshot::{node_id, PublicKey};
use crate::stats::Stats;

use super::context::Context;
use super::gate::Gate;
use super::registry::Peer;
use super::tx::Tx;
use super::{actions, confirm, ipv4, relay, MAX_DATAGRAM};
use crate::io::batch::RecvBatch;

pub fn run(ctx: Arc<Context>) {
    let mut batch = RecvBatch::new(&ctx.udp, MAX_DATAGRAM);
    let mut bufs = Buffers::new(Gate::new(&ctx.keys.public, ctx.clock.now()));
    let mut tx = Tx::default();
    while !ctx.stopping() {
        match batch.recv(&ctx.udp) {
            Ok(n) => {
                let now = ctx.clock.now();
                for i in 0..n {
                    match batch.get(i) {
                        Some((datagrams, src)) => {
                            for datagram in datagrams {
                                // A GRO buffer holds up to 64 KB; a single
                                // datagram that large is none of pim's.
                                if datagram.len() > MAX_DATAGRAM {
                                    Stats::inc(&ctx.stats.drop_malformed);
                                    continue;
                                }
                                handle(&ctx, datagram, src, &mut bufs, &mut tx, now);
                            }
                        }
                        // Larger than any datagram pim sends.
                        None => Stats::inc(&ctx.stats.drop_malformed),
                    }
                }
                tx.flush(&ctx);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                match ctx.waker.wait(
                    std::os::fd::AsRawFd::as_raw_fd(&ctx.udp),
                    Duration::from_secs(1),
                ) {
                    Ok(Wait::Woken) => return,
                    Ok(_) => {}
                    Err(e) => return fault(&ctx, format!("inbound poll failed: {e}")),
                }
            }
            // ICMP errors from earlier sends surface here on Linux; they say
            // nothing about this socket's health.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => return fault(&ctx, format!("inbound UDP receive failed: {e}")),
        }
    }
}

fn fault(ctx: &Context, message: String) {
    ctx.emit(Event::Fault { message });
}

/// What the inbound thread keeps: where it opens datagrams, and its gate.
pub struct Buffers {
    plain: Vec<u8>,
    /// Where a relayed datagram is opened (its envelope stays in `plain`).
    spare: Vec<u8>,
    gate: Gate,
}

impl Buffers {
    fn new(gate: Gate) -> Self {
        Buffers {
            plain: vec![0u8; MAX_DATAGRAM],
            spare: vec![0u8; MAX_DATAGRAM],
            gate,
        }
    }
}

/// A datagram for this node that arrived inside a relay envelope.
struct Relayed {
    /// The neighbour it came through.
    from: PublicKey,
    /// Where the datagram lies in the opened envelope.
    at: Range<usize>,
}

/// One datagram straight off the socket from `src`, and the one its relay
/// envelope may carry for us.
pub fn handle(
    ctx: &Context,
    datagram: &[u8],
    src: SocketAddr,
    bufs: &mut Buffers,
    tx: &mut Tx,
    now: Instant,
) {
    let src = Endpoint::Udp(src);
    let gate = &mut bufs.gate;
    if let Some(inner) = handle_one(ctx, datagram, src, &mut bufs.plain, gate, true, tx, now) {
        let datagram = &bufs.plain[inner.at];
        let src = Endpoint::Relay(inner.from);
        handle_one(ctx, datagram, src, &mut bufs.spare, gate, false, tx, now);
    }
}

/// Handles one datagram, opening it into `plain`. Returns the datagram a
/// relay envelope holds for us, when `may_relay` (the first pass only).
#[allow(clippy::too_many_arguments)]
fn handle_one(
    ctx: &Context,
    datagram: &[u8],
    src: Endpoint,
    plain: &mut [u8],
    gate: &mut Gate,
    may_relay: bool,
    tx: &mut Tx,
    now: Instant,
) -> Option<Relayed> {
    match wire::parse(datagram) {
        Err(_) => Stats::inc(&ctx.stats.drop_malformed),
        Ok(Message::Initiation(i)) => gate.initiation(ctx, &i, datagram, src, tx, now),
        Ok(Message::Response(r)) => gate.response(ctx, &r, datagram, src),
        Ok(Message::CookieReply(c)) => gate.cookie_reply(ctx, &c, datagram, src),
        Ok(Message::Transport(t)) => return on_transport(ctx, &t, src, plain, may_relay, tx, now),
    }
    None
}

fn on_transport(
    ctx: &Context,
    t: &wire::Transport<'_>,
    src: Endpoint,
    plain: &mut [u8],
    may_relay: bool,
    tx: &mut Tx,
    now: Instant,
) -> Option<Relayed> {
    let counted = |counter: &AtomicU64| {
        Stats::inc(counter);
        None
    };
    let (peer, n, acts) = match ctx.routes().by_index(t.receiver_index).cloned() {
        Some(peer) => {
            let Some(session) = peer.lock().receiving_session(t.receiver_index) else {
                return counted(&ctx.stats.drop_unknown_index);
            };
            let n = match session.open(t, plain, now) {
                Ok(n) => n,
                Err(e) => {
                    return counted(match e {
                        OpenError::Replay => &ctx.stats.drop_replay,
                        OpenError::Expired => &ctx.stats.drop_expired,
                        OpenError::Decrypt | OpenError::BufferTooSmall => &ctx.stats.drop_decrypt,
                    })
                }
            };
            let acts = peer.lock().after_inbound(t.receiver_index, src, now);
            (peer, n, acts)
        }
        None => match confirm::half_open(ctx, t, src, plain, now) {
            Ok(confirmed) => confirmed,
            Err(Some(counter)) => return counted(counter),
            Err(None) => return None,
        },
    };
    let peer_ip = peer.lock().mesh_ip;
    if !acts.is_empty() {
        actions::run(ctx, &peer, acts, tx, now);
    }
    let packet = match control::classify(&plain[..n]) {
        Payload::Ipv4(packet) => packet,
        Payload::Keepalive => return counted(&ctx.stats.keepalives_received),
        Payload::Probe(nonce) => {
            Stats::inc(&ctx.stats.probes_received);
            actions::seal_and_send(ctx, &peer, &control::probe_reply(nonce), tx, now);
            return None;
        }
        Payload::ProbeReply(nonce) => {
            let requested = peer.lock().probe_answered(nonce, now);
            if let Some(rtt) = requested {
                ctx.emit(Event::ProbeReply {
                    public_key: peer.public_key,
                    rtt,
                });
            }
            return None;
        }
        Payload::Advert(body) => {
            if !peer.adverts.take(now) {
                return counted(&ctx.stats.drop_advert_flood);
            }
            ctx.emit(Event::Control {
                public_key: peer.public_key,
                payload: body.to_vec(),
            });
            return None;
        }
        Payload::Relay(..) if !may_relay => return counted(&ctx.stats.drop_relay_nested),
        Payload::Relay(header, _) => {
            let for_us = relay::on_envelope(ctx, &peer, header, &mut plain[..n], tx, now);
            return for_us.then(|| Relayed {
                from: peer.public_key,
                at: RELAY_HEADER_LEN..n,
            });
        }
        Payload::Unknown => return counted(&ctx.stats.drop_unknown_payload),
    };
    deliver(ctx, &peer, packet, peer_ip, tx);
    None
}

/// Cryptokey routing, then the TUN: a peer speaks only for its own mesh
/// address, except the selected gateway, which relays the internet's answers.
fn deliver(ctx: &Context, peer: &Peer, packet: &[u8], peer_ip: std::net::Ipv4Addr, tx: &mut Tx) {
    let Some(header) = ipv4::parse(packet) else {
        return Stats::inc(&ctx.stats.drop_not_ipv4);
    };
    let from_internet = !ctx.in_mesh(header.src);
    if from_internet && ctx.policy().routing.internet_via != Some(peer.public_key) {
        return Stats::inc(&ctx.stats.drop_internet_source);
    }
    if !from_internet && header.src != peer_ip {
        return Stats::inc(&ctx.stats.drop_source_mismatch);
    }
    // For us; or, on a gateway, a peer's own packet for the internet, never
    // for the gateway host's own addresses or local networks (unless the
    // operator let explicitly trusted peers in: hashing the key for the
    // node_id happens only for such packets, never on the internet path).
    let for_internet = !from_internet && !ctx.in_mesh(header.dst) && {
        // One lock at a time: the policy's guard is dropped before the
        // registry's is taken.
        let (gateway, blocked, lan_explicit) = {
            let policy = ctx.policy();
            let r = &policy.routing;
            (
                r.gateway,
                r.gateway_blocked.iter().any(|c| c.contains(header.dst)),
                r.gateway_lan_explicit,
            )
        };
        if gateway
            && blocked
            && !(lan_explicit
                && ctx
                    .registry()
                    .trust()
                    .is_explicit(&node_id(&peer.public_key)))
        {
            return Stats::inc(&ctx.stats.drop_gateway_blocked);
        }
        gateway
    };
    if header.dst != ctx.mesh_ip && !for_internet {
        return Stats::inc(&ctx.stats.drop_not_for_us);
    }
    tx.deliver(ctx, &packet[..header.total_len]);
    Stats::inc(&ctx.stats.rx_packets);
    Stats::add(&ctx.stats.rx_bytes, header.total_len as u64);
    peer.rx_bytes
        .fetch_add(header.total_len as u64, Ordering::Relaxed);
    if for_internet {
        peer.gateway_bytes
            .fetch_add(header.total_len as u64, Ordering::Relaxed);
    }
}
