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

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use crate::proto::admission::Refusal;
use crate::proto::endpoint::Endpoint;
use crate::proto::session::OpenError;
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
    let (peer, acts) = adopt(ctx, t.receiver_index, src, now).map_err(|refusal| {
        refused(ctx, refusal, src, true);
        None
    })?;
    Ok((peer, n, acts))
}

/// Turns the entry into a peer with the session installed, or hands the
/// session to the peer the key has now. A new peer's tunnel is complete
/// before the registry shows it, so the timer never sees it half made
/// (and never collects it as idle).
fn adopt(
    ctx: &Context,
    index: u32,
    src: Endpoint,
    now: Instant,
) -> Result<(Arc<Peer>, Actions), Refusal> {
    let mut reg = ctx.registry_mut();
    let entry = ctx.half_open().remove(index).ok_or(Refusal::Gone)?;
    let session = entry.session.ok_or(Refusal::Gone)?;
    let (key, ip, ts) = (entry.public_key, entry.mesh_ip, entry.timestamp);
    if reg.decide(&key, Some(&src)) != Verdict::Admit {
        return Err(Refusal::Untrusted(key));
    }
    if !ctx.mesh_ip_usable(ip) || !reg.ip_free_for(&ip, &key) {
        return Err(Refusal::MeshIpConflict(key, ip));
    }
    let (peer, acts) = match reg.by_key(&key) {
        Some(p) => (p, None),
        None if reg.dynamic_count() >= MAX_DYNAMIC_PEERS => return Err(Refusal::PeerLimit(key)),
        None => {
            let mut tunnel = Tunnel::new(key, ip, Some(src), false);
            let acts = tunnel.confirm_responder(session.clone(), src, ip, ts, now);
            let peer = Peer::new(tunnel, false);
            reg.insert(peer.clone(), ip);
            (peer, Some(acts))
        }
    };
    if !reg.claim_ip(&peer, ip) {
        return Err(Refusal::Gone);
    }
    reg.adopt_index(index, &peer);
    drop(reg);
    // Lock order: the registry is released before the tunnel is locked.
    let acts = match acts {
        Some(acts) => acts,
        None => peer.lock().confirm_responder(session, src, ip, ts, now),
    };
    Ok((peer, acts))
}
