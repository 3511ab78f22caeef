//! Handshake messages arriving on the inbound thread: lookups and I/O around
//! the decisions of `proto::admission` (docs/PROTOCOL.md §4.3, §4.4).
//!
//! Initiation: 1. `admission::receive` (mac1, Noise, key order, freshness,
//! then `Node::admit`: trust and claim, with the peer created and an index
//! drawn under one registry write lock)  2. the peer's tunnel answers
//! 3. the response goes back the way the initiation came.
//! Response: 1. mac1  2. find our attempt by index  3. Noise, then trust and
//! the claim (`admit_response`, under the peer's lock)  4. install, send.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use crate::event::Event;
use crate::proto::admission::{self, Refusal, Verifier};
use crate::proto::endpoint::Endpoint;
use crate::proto::tai64n::Tai64N;
use crate::proto::tunnel::{CompleteError, Tunnel};
use crate::proto::wire::{self, RESP_LEN};
use crate::snapshot::{short, PublicKey};
use crate::stats::Stats;
use crate::trust::Verdict;

use super::actions;
use super::context::Context;
use super::registry::{Peer, MAX_DYNAMIC_PEERS};
use super::tx::Tx;

/// The node's side of an initiation's admission.
struct Node<'a>(&'a Context);

impl Verifier for Node<'_> {
    type Admitted = (Arc<Peer>, u32);

    fn is_fresh(&self, key: &PublicKey, timestamp: Tai64N) -> bool {
        // Lock order: the registry guard is gone before the tunnel is locked.
        let known = self.0.registry().by_key(key);
        known.is_none_or(|p| p.lock().initiation_is_fresh(timestamp))
    }

    fn admit(
        &self,
        key: &PublicKey,
        src: &Endpoint,
        mesh_ip: Ipv4Addr,
    ) -> Result<(Arc<Peer>, u32), Refusal> {
        let ctx = self.0;
        let mut reg = ctx.registry_mut();
        if reg.decide(key, Some(src)) != Verdict::Admit {
            return Err(Refusal::Untrusted(*key));
        }
        if !ctx.mesh_ip_usable(mesh_ip) || !reg.ip_free_for(&mesh_ip, key) {
            return Err(Refusal::MeshIpConflict(*key, mesh_ip));
        }
        let peer = match reg.by_key(key) {
            Some(p) => p,
            None if reg.dynamic_count() >= MAX_DYNAMIC_PEERS => {
                return Err(Refusal::PeerLimit(*key))
            }
            None => {
                let peer = Peer::new(Tunnel::new(*key, mesh_ip, Some(*src), false), false);
                reg.insert(peer.clone(), mesh_ip);
                peer
            }
        };
        // Neither can fail: the peer is in the registry we hold, and the
        // address was checked free for it above.
        let index = reg.allocate_index(&peer).ok_or(Refusal::Gone)?;
        reg.claim_ip(&peer, mesh_ip);
        Ok((peer, index))
    }
}

pub fn on_initiation(
    ctx: &Context,
    init: &wire::Initiation<'_>,
    src: Endpoint,
    tx: &mut Tx,
    now: Instant,
) {
    let (received, (peer, index)) = match admission::receive(&ctx.keys, init, &src, &Node(ctx)) {
        Ok(admitted) => admitted,
        Err(refusal) => return refused(ctx, refusal, src, true),
    };
    let resp: &mut [u8; RESP_LEN] = (&mut tx.body()[..RESP_LEN])
        .try_into()
        .expect("the body holds a response");
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
fn refused(ctx: &Context, refusal: Refusal, src: Endpoint, initiation: bool) {
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
