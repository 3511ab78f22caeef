//! Key confirmation of a half-open handshake (docs/PROTOCOL.md §4.11), on
//! the inbound thread: a transport message whose index no peer holds may
//! belong to a stranger we answered.
//!
//! 1. open it with the half-open entry's session (a forgery moves nothing)
//! 2. under the registry's write lock: take the entry, decide trust again on
//!    the message's source, find or create the peer (the dynamic-peer cap),
//!    claim its mesh IP, register the index
//! 3. install the session as the peer's `current`; the caller goes on with
//!    the plaintext as for any peer

use std::net::Ipv4Addr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use crate::proto::admission::Refusal;
use crate::proto::endpoint::Endpoint;
use crate::proto::session::{OpenError, Session};
use crate::proto::tai64n::Tai64N;
use crate::proto::tunnel::{Actions, Tunnel};
use crate::proto::wire;
use crate::trust::Verdict;

use super::context::Context;
use super::handshakes::refused;
use super::registry::{Peer, MAX_DYNAMIC_PEERS};

/// The peer the message confirmed, its plaintext length and what its
/// tunnel decided; or the counter of why it was dropped.
pub type Confirmed<'c> = Result<(Arc<Peer>, usize, Actions), Option<&'c AtomicU64>>;

pub fn half_open<'c>(
    ctx: &'c Context,
    t: &wire::Transport<'_>,
    src: Endpoint,
    plain: &mut [u8],
    now: Instant,
) -> Confirmed<'c> {
    let s = &ctx.stats;
    let session = ctx.half_open().session(t.receiver_index);
    let Some(session) = session else {
        return Err(Some(&s.drop_unknown_index));
    };
    let n = session.open(t, plain, now).map_err(|e| {
        Some(match e {
            OpenError::Replay => &s.drop_replay,
            OpenError::Expired => &s.drop_expired,
            OpenError::Decrypt | OpenError::BufferTooSmall => &s.drop_decrypt,
        })
    })?;
    let a = adopt(ctx, t.receiver_index, src).map_err(|refusal| {
        refused(ctx, refusal, src, true);
        None
    })?;
    let acts = a
        .peer
        .lock()
        .confirm_responder(a.session, src, a.mesh_ip, a.timestamp, now);
    Ok((a.peer, n, acts))
}

struct Adopted {
    peer: Arc<Peer>,
    session: Arc<Session>,
    mesh_ip: Ipv4Addr,
    timestamp: Tai64N,
}

/// Turns the entry into a peer (or hands it to the peer the key has now).
fn adopt(ctx: &Context, index: u32, src: Endpoint) -> Result<Adopted, Refusal> {
    let mut reg = ctx.registry_mut();
    let entry = ctx.half_open().remove(index).ok_or(Refusal::Gone)?;
    let session = entry.session.ok_or(Refusal::Gone)?;
    let key = entry.public_key;
    if reg.decide(&key, Some(&src)) != Verdict::Admit {
        return Err(Refusal::Untrusted(key));
    }
    if !ctx.mesh_ip_usable(entry.mesh_ip) || !reg.ip_free_for(&entry.mesh_ip, &key) {
        return Err(Refusal::MeshIpConflict(key, entry.mesh_ip));
    }
    let peer = match reg.by_key(&key) {
        Some(p) => p,
        None if reg.dynamic_count() >= MAX_DYNAMIC_PEERS => return Err(Refusal::PeerLimit(key)),
        None => {
            let peer = Peer::new(Tunnel::new(key, entry.mesh_ip, Some(src), false), false);
            reg.insert(peer.clone(), entry.mesh_ip);
            peer
        }
    };
    if !reg.claim_ip(&peer, entry.mesh_ip) {
        return Err(Refusal::Gone);
    }
    reg.adopt_index(index, &peer);
    Ok(Adopted {
        peer,
        session,
        mesh_ip: entry.mesh_ip,
        timestamp: entry.timestamp,
    })
}
