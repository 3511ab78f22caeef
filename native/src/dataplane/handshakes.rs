//! Handshake messages on the handshake worker (after the inbound thread's
//! gate): lookups and I/O around the decisions of `proto::admission`
//! (docs/PROTOCOL.md §4.3, §4.4, §4.10, §4.11).
//!
//! Initiation: 1. `admission::receive` (mac1, Noise, key order, freshness,
//! then `Node::admit`: trust and claim; for a known key, its claim committed
//! and an index drawn under one registry write lock; for a stranger, a
//! half-open entry and nothing else)  2. the peer's tunnel, or the half-open
//! entry, answers  3. the response goes back the way the initiation came.
//! Response: 1. mac1  2. find our attempt by index  3. Noise, then trust and
//! the claim (`admit_response`, under the peer's lock)  4. install, send.
//! Cookie reply: the peer's tunnel keeps the cookie for its next initiation.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use crate::event::Event;
use crate::proto::admission::{self, Refusal, Verifier};
use crate::proto::endpoint::Endpoint;
use crate::proto::tai64n::Tai64N;
use crate::proto::tunnel::CompleteError;
use crate::proto::wire::{self, RESP_LEN};
use crate::snapshot::{node_id, short, PublicKey};
use crate::stats::Stats;
use crate::trust::Verdict;

use super::actions;
use super::context::Context;
use super::gate::limit;
use super::half_open::MAX_HALF_OPEN;
use super::registry::{Peer, MAX_DYNAMIC_PEERS};
use super::tx::Tx;

/// What an admitted initiation sets up.
enum Admitted {
    /// A key the node has a peer for: answered by its tunnel.
    Known(Arc<Peer>, u32),
    /// A stranger: answered from the half-open table at this index.
    HalfOpen(u32),
}

/// The node's side of an initiation's admission.
struct Node<'a>(&'a Context);

impl Verifier for Node<'_> {
    type Admitted = Admitted;

    fn is_fresh(&self, key: &PublicKey, timestamp: Tai64N) -> bool {
        // Lock order: the registry guard is gone before the tunnel is locked.
        let known = self.0.registry().by_key(key);
        match known {
            Some(p) => p.lock().initiation_is_fresh(timestamp),
            None => self.0.half_open().is_fresh(key, timestamp),
        }
    }

    fn admit(
        &self,
        key: &PublicKey,
        src: &Endpoint,
        mesh_ip: Ipv4Addr,
        timestamp: Tai64N,
    ) -> Result<Admitted, Refusal> {
        let ctx = self.0;
        if ctx.registry().by_key(key).is_none() {
            return admit_stranger(ctx, key, src, mesh_ip, timestamp);
        }
        let mut reg = ctx.registry_mut();
        if reg.decide(key, Some(src)) != Verdict::Admit {
            return Err(Refusal::Untrusted(*key));
        }
        if !ctx.mesh_ip_usable(mesh_ip) || !reg.ip_free_for(&mesh_ip, key) {
            return Err(Refusal::MeshIpConflict(*key, mesh_ip));
        }
        // Gone since the look above (forgotten, collected): it dials again.
        let peer = reg.by_key(key).ok_or(Refusal::Gone)?;
        let index = reg
            .allocate_index(&peer, &ctx.half_open())
            .ok_or(Refusal::Gone)?;
        // Cannot fail: the address was checked free for it above.
        reg.claim_ip(&peer, mesh_ip);
        Ok(Admitted::Known(peer, index))
    }
}

/// A key without a peer: trust and the claim are checked now, but the peer
/// and its claim wait for key confirmation (`confirm`); until then the
/// handshake holds only a half-open entry, which expires.
fn admit_stranger(
    ctx: &Context,
    key: &PublicKey,
    src: &Endpoint,
    mesh_ip: Ipv4Addr,
    timestamp: Tai64N,
) -> Result<Admitted, Refusal> {
    let reg = ctx.registry();
    if reg.decide(key, Some(src)) != Verdict::Admit {
        return Err(Refusal::Untrusted(*key));
    }
    if !ctx.mesh_ip_usable(mesh_ip) || !reg.ip_free_for(&mesh_ip, key) {
        return Err(Refusal::MeshIpConflict(*key, mesh_ip));
    }
    if reg.dynamic_count() >= MAX_DYNAMIC_PEERS {
        return Err(Refusal::PeerLimit(*key));
    }
    let mut half_open = ctx.half_open();
    let index = reg.free_index(&half_open);
    let reserved = half_open.reserve(index, *key, *src, mesh_ip, timestamp, ctx.clock.now());
    drop((half_open, reg));
    if reserved.evicted {
        Stats::inc(&ctx.stats.half_open_evicted);
        ctx.emit(limit(
            "half_open",
            format!("{MAX_HALF_OPEN} unconfirmed handshakes held; evicted the oldest"),
        ));
    }
    Ok(Admitted::HalfOpen(index))
}

pub fn on_initiation(
    ctx: &Context,
    init: &wire::Initiation<'_>,
    src: Endpoint,
    tx: &mut Tx,
    now: Instant,
) {
    let (received, admitted) = match admission::receive(&ctx.keys, init, &src, &Node(ctx)) {
        Ok(admitted) => admitted,
        Err(refusal) => return refused(ctx, refusal, src, true),
    };
    let resp: &mut [u8; RESP_LEN] = (&mut tx.body()[..RESP_LEN])
        .try_into()
        .expect("the body holds a response");
    let (peer, index) = match admitted {
        Admitted::Known(peer, index) => (peer, index),
        Admitted::HalfOpen(index) => {
            let key = received.remote_public;
            let session = received.respond(index, ctx.mesh_ip, now, resp);
            // Evicted meanwhile (the table filled with newer ones): no answer.
            if ctx.half_open().fill(index, Arc::new(session))
                && tx.send(ctx, RESP_LEN, src, &node_id(&key), now)
            {
                Stats::inc(&ctx.stats.handshake_responses_sent);
            }
            return;
        }
    };
    let accepted = peer
        .lock()
        .accept_initiation(received, src, ctx.mesh_ip, index, now, resp);
    match accepted {
        Ok(acts) => {
            // The answer goes back the way the initiation came.
            if tx.send(ctx, RESP_LEN, src, &peer.node_id, now) {
                Stats::inc(&ctx.stats.handshake_responses_sent);
            }
            actions::run(ctx, &peer, acts, tx, now);
        }
        // Freshness was checked moments ago on this same thread; only a
        // second initiation of the key in between could make this happen.
        Err(_) => {
            ctx.registry_mut().release(&[index]);
            Stats::inc(&ctx.stats.drop_handshake_replay);
        }
    }
}

/// A cookie reply to our initiation in flight (§4.10): kept for the next one.
pub fn on_cookie_reply(ctx: &Context, reply: &wire::CookieReply<'_>) {
    let Some(peer) = ctx.registry().by_index(reply.receiver_index) else {
        return Stats::inc(&ctx.stats.drop_unknown_index);
    };
    let kept = peer.lock().cookie_received(reply, ctx.clock.now());
    Stats::inc(if kept {
        &ctx.stats.cookies_received
    } else {
        &ctx.stats.drop_bad_cookie
    });
}

pub fn on_response(
    ctx: &Context,
    resp: &wire::Response<'_>,
    src: Endpoint,
    tx: &mut Tx,
    now: Instant,
) {
    if !ctx.keys.own_mac1().verify(resp.mac_input, resp.mac1) {
        Stats::inc(&ctx.stats.drop_bad_mac);
        return;
    }
    let Some(peer) = ctx.registry().by_index(resp.receiver_index) else {
        Stats::inc(&ctx.stats.drop_unknown_index);
        return;
    };
    let result = peer
        .lock()
        .complete_handshake(resp, src, now, |ip| admit_response(ctx, &peer, &src, ip));
    match result {
        Ok(acts) => actions::run(ctx, &peer, acts, tx, now),
        Err(CompleteError::NotPending) => Stats::inc(&ctx.stats.drop_unknown_index),
        Err(CompleteError::Refused(refusal)) => {
            // The attempt is spent; its index goes with it.
            ctx.registry_mut().release(&[resp.receiver_index]);
            refused(ctx, refusal, src, false);
        }
    }
}

/// A responder Noise has proven: the policy decides on it as on an
/// initiator (we chose its key, but the policy may have changed since, and
/// the answer may come from an address pinned to another node). Runs under
/// the peer's lock; the registry lock is taken inside it, never around it.
fn admit_response(
    ctx: &Context,
    peer: &Arc<Peer>,
    src: &Endpoint,
    mesh_ip: Ipv4Addr,
) -> Result<(), Refusal> {
    let key = peer.public_key;
    let mut reg = ctx.registry_mut();
    if peer.is_removed() {
        return Err(Refusal::Gone);
    }
    if reg.decide(&key, Some(src)) != Verdict::Admit {
        return Err(Refusal::Untrusted(key));
    }
    if !ctx.mesh_ip_usable(mesh_ip) || !reg.claim_ip(peer, mesh_ip) {
        return Err(Refusal::MeshIpConflict(key, mesh_ip));
    }
    Ok(())
}

/// Counts a refused handshake and reports what the control plane must know.
/// A response failing mac1 is not reported: it was not addressed to us.
pub(super) fn refused(ctx: &Context, refusal: Refusal, src: Endpoint, initiation: bool) {
    let s = &ctx.stats;
    match refusal {
        Refusal::BadMac => {
            Stats::inc(&s.drop_bad_mac);
            if initiation {
                ctx.emit(Event::HandshakeRejected { source: src });
            }
        }
        // Well-formed but unverifiable: a peer holding the wrong key for us,
        // another protocol version, or a forgery (a small-order key is one).
        Refusal::Rejected | Refusal::LowOrderKey => {
            Stats::inc(&s.drop_handshake_rejected);
            ctx.emit(Event::HandshakeRejected { source: src });
        }
        Refusal::Replay => Stats::inc(&s.drop_handshake_replay),
        Refusal::Untrusted(public_key) => {
            Stats::inc(&s.drop_untrusted);
            ctx.emit(Event::Untrusted {
                public_key,
                source: src,
            });
        }
        Refusal::MeshIpConflict(public_key, mesh_ip) => {
            Stats::inc(&s.drop_mesh_ip_conflict);
            ctx.emit(Event::MeshIpConflict {
                public_key,
                mesh_ip,
            });
        }
        Refusal::PeerLimit(key) => {
            Stats::inc(&s.drop_peer_limit);
            ctx.emit(Event::LimitReached {
                limit: "dynamic_peers",
                detail: format!(
                    "{MAX_DYNAMIC_PEERS} peers that dialled in exist; refused {} from {src}",
                    short(&key)
                ),
            });
        }
        Refusal::Gone => Stats::inc(&s.drop_unknown_index),
    }
}
