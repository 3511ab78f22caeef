//! Handshake messages arriving on the inbound thread.
//!
//! Initiation: 1. mac1 (no DH)  2. Noise IK responder  3. trust policy on
//! the learned key  4. mesh-IP claim  5. timestamp (replay)  6. response.
//! Response: 1. mac1  2. find our attempt by index  3. Noise  4. claim.

use std::time::Instant;

use crate::event::Event;
use crate::proto::endpoint::Endpoint;
use crate::proto::handshake::{receive_initiation, HandshakeError};
use crate::proto::tunnel::{CompleteError, Tunnel};
use crate::proto::wire::{self, RESP_LEN};
use crate::snapshot::{node_id, Verdict};
use crate::stats::Stats;

use super::actions;
use super::context::Context;
use super::registry::{Peer, MAX_DYNAMIC_PEERS};
use super::tx::Tx;

pub fn on_initiation(
    ctx: &Context,
    init: &wire::Initiation<'_>,
    src: Endpoint,
    tx: &mut Tx,
    now: Instant,
) {
    let received = match receive_initiation(&ctx.keys, init) {
        Ok(r) => r,
        Err(e) => {
            Stats::inc(match e {
                HandshakeError::BadMac => &ctx.stats.drop_bad_mac,
                HandshakeError::Rejected => &ctx.stats.drop_handshake_rejected,
            });
            // Well-formed but unverifiable: a peer holding the wrong key for
            // us, another protocol version, or a forgery.
            ctx.emit(Event::HandshakeRejected { source: src });
            return;
        }
    };
    let key = received.remote_public;
    // A replay of a known peer's initiation stops here, before it can cost
    // policy work or raise events.
    let known = ctx.registry().by_key(&key);
    if known
        .as_ref()
        .is_some_and(|p| !p.lock().initiation_is_fresh(received.timestamp))
    {
        Stats::inc(&ctx.stats.drop_handshake_replay);
        return;
    }
    if ctx.policy().trust.decide(&node_id(&key), &src) == Verdict::Untrusted {
        Stats::inc(&ctx.stats.drop_untrusted);
        ctx.emit(Event::Untrusted {
            public_key: key,
            source: src,
        });
        return;
    }
    if !ctx.mesh_ip_claim_ok(received.mesh_ip, &key) {
        Stats::inc(&ctx.stats.drop_mesh_ip_conflict);
        ctx.emit(Event::MeshIpConflict {
            public_key: key,
            mesh_ip: received.mesh_ip,
        });
        return;
    }
    let peer = match known {
        Some(p) => p,
        None => {
            let mut reg = ctx.registry_mut();
            match reg.by_key(&key) {
                Some(p) => p,
                None if reg.dynamic_count() >= MAX_DYNAMIC_PEERS => {
                    Stats::inc(&ctx.stats.drop_peer_limit);
                    return;
                }
                None => {
                    let peer =
                        Peer::new(Tunnel::new(key, received.mesh_ip, Some(src), false), false);
                    reg.insert(peer.clone(), received.mesh_ip);
                    peer
                }
            }
        }
    };
    let mesh_ip = received.mesh_ip;
    let index = ctx.registry_mut().allocate_index(&peer);
    let resp: &mut [u8; RESP_LEN] = (&mut tx.body()[..RESP_LEN])
        .try_into()
        .expect("the body holds a response");
    let accepted = peer
        .lock()
        .accept_initiation(received, src, ctx.mesh_ip, index, now, resp);
    match accepted {
        Ok(acts) => {
            ctx.registry_mut().set_ip(&peer, mesh_ip);
            // The answer goes back the way the initiation came.
            if tx.send(ctx, RESP_LEN, src, &peer.node_id, now) {
                Stats::inc(&ctx.stats.handshake_responses_sent);
            }
            actions::run(ctx, &peer, acts, tx, now);
        }
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
    let key = peer.public_key;
    let result = peer
        .lock()
        .complete_handshake(resp, src, now, |ip| ctx.mesh_ip_claim_ok(ip, &key));
    match result {
        Ok(acts) => {
            let mesh_ip = peer.lock().mesh_ip;
            ctx.registry_mut().set_ip(&peer, mesh_ip);
            actions::run(ctx, &peer, acts, tx, now);
        }
        Err(CompleteError::NotPending) => Stats::inc(&ctx.stats.drop_unknown_index),
        Err(failed) => {
            // The attempt is spent; its index goes with it.
            ctx.registry_mut().release(&[resp.receiver_index]);
            report_failed_response(ctx, failed, key, src);
        }
    }
}

fn report_failed_response(
    ctx: &Context,
    failed: CompleteError,
    key: crate::snapshot::PublicKey,
    src: Endpoint,
) {
    match failed {
        CompleteError::NotPending => {}
        CompleteError::Rejected => {
            Stats::inc(&ctx.stats.drop_handshake_rejected);
            ctx.emit(Event::HandshakeRejected { source: src });
        }
        CompleteError::MeshIpConflict(mesh_ip) => {
            Stats::inc(&ctx.stats.drop_mesh_ip_conflict);
            ctx.emit(Event::MeshIpConflict {
                public_key: key,
                mesh_ip,
            });
        }
    }
}
