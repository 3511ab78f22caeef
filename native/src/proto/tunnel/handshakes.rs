//! A tunnel's handshakes (docs/PROTOCOL.md §4.3, §4.4): starting an attempt,
//! completing it with the response, and answering the peer's initiation.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{retire, Actions, Tunnel, TunnelEvent};
use crate::proto::admission::Refusal;
use crate::proto::cookie::{self, COOKIE_USABLE};
use crate::proto::endpoint::Endpoint;
use crate::proto::handshake::{self, Initiation, ReceivedInitiation, StaticKeys};
use crate::proto::session::Session;
use crate::proto::tai64n::Tai64N;
use crate::proto::timers::HANDSHAKE_RETRY;
use crate::proto::wire::{self, INIT_LEN, MAC_LEN, RESP_LEN};

/// What a handshake needs from the node: its keys, address, the time and a
/// fresh session index (unique among the node's sessions).
pub struct InitiationContext<'a> {
    pub keys: &'a StaticKeys,
    pub own_mesh_ip: Ipv4Addr,
    pub wall_clock: Tai64N,
    pub local_index: u32,
    pub jitter: Duration,
}

pub(super) struct Pending {
    pub(super) initiation: Initiation,
    pub(super) attempt_started: Instant,
    pub(super) sent_at: Instant,
    pub(super) retry_at: Instant,
    /// The latest initiation's mac1: a cookie reply is sealed to it.
    pub(super) sent_mac1: [u8; MAC_LEN],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompleteError {
    /// No initiation of ours has this index (late, duplicate or stray response).
    NotPending,
    /// Noise, or the node's admission step, refused the response.
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiationRejected {
    /// The timestamp is not newer than the last accepted one: a replay.
    Replay,
}

impl Tunnel {
    /// Builds an initiation into `out`. The returned actions retire the index
    /// of the attempt it replaces.
    pub fn begin_initiation(
        &mut self,
        ctx: InitiationContext<'_>,
        now: Instant,
        out: &mut [u8; INIT_LEN],
    ) -> Actions {
        let mut actions = Actions::default();
        let initiation = handshake::initiate(
            ctx.keys,
            &self.remote_public,
            ctx.local_index,
            ctx.wall_clock,
            ctx.own_mesh_ip,
            out,
        );
        let attempt_started = match self.pending.take() {
            Some(old) => {
                actions.retired.push(old.initiation.local_index);
                old.attempt_started
            }
            None => now,
        };
        self.pending = Some(Pending {
            initiation,
            attempt_started,
            sent_at: now,
            retry_at: now + HANDSHAKE_RETRY + ctx.jitter,
            sent_mac1: out[INIT_LEN - MAC_LEN..].try_into().expect("fixed size"),
        });
        actions
    }

    /// mac2 for an initiation `begin_initiation` wrote, while the peer's
    /// last cookie is usable (§4.10); without one the initiation goes bare.
    pub fn mac2(&self, init: &[u8; INIT_LEN], now: Instant) -> Option<[u8; MAC_LEN]> {
        let (cookie, got) = self.cookie.as_ref()?;
        (now.saturating_duration_since(*got) < COOKIE_USABLE).then(|| cookie::mac2(cookie, init))
    }

    /// A cookie reply: kept if it answers the initiation in flight and opens
    /// (it is sealed to that initiation's mac1). The next retry, on the
    /// usual timer, carries mac2; a cookie never triggers a send by itself.
    pub fn cookie_received(&mut self, reply: &wire::CookieReply<'_>, now: Instant) -> bool {
        let Some(p) = self
            .pending
            .as_ref()
            .filter(|p| p.initiation.local_index == reply.receiver_index)
        else {
            return false;
        };
        match cookie::open_reply(&self.remote_public, reply, &p.sent_mac1) {
            Some(c) => {
                self.cookie = Some((c, now));
                true
            }
            None => false,
        }
    }

    /// A half-open handshake of ours with this peer got its first
    /// authenticated transport message (§4.11): its session is confirmed
    /// and installed as `current`.
    pub fn confirm_responder(
        &mut self,
        session: Arc<Session>,
        src: Endpoint,
        mesh_ip: Ipv4Addr,
        timestamp: Tai64N,
        now: Instant,
    ) -> Actions {
        self.mesh_ip = mesh_ip;
        if self.initiation_is_fresh(timestamp) {
            self.last_init_timestamp = Some(timestamp);
        }
        let mut actions = Actions::default();
        self.install(session, now, &mut actions);
        self.note_received(src, now, &mut actions);
        actions
    }

    pub fn pending_index(&self) -> Option<u32> {
        self.pending.as_ref().map(|p| p.initiation.local_index)
    }

    /// Message 2 for our pending initiation (mac1 already verified). Once
    /// Noise has proven the responder, `admit` decides on it and its mesh-IP
    /// claim (and commits the claim) before anything is installed.
    pub fn complete_handshake(
        &mut self,
        resp: &wire::Response<'_>,
        src: Endpoint,
        now: Instant,
        admit: impl FnOnce(Ipv4Addr) -> Result<(), Refusal>,
    ) -> Result<Actions, CompleteError> {
        let pending = self.pending.take().ok_or(CompleteError::NotPending)?;
        if pending.initiation.local_index != resp.receiver_index {
            self.pending = Some(pending);
            return Err(CompleteError::NotPending);
        }
        let sent_at = pending.sent_at;
        // On failure the attempt is gone (snow's state is spent); the next
        // tick starts a new one for a peer that still needs it.
        let done = pending
            .initiation
            .complete(resp, now)
            .map_err(|_| CompleteError::Refused(Refusal::Rejected))?;
        admit(done.remote_mesh_ip).map_err(CompleteError::Refused)?;
        let mut actions = Actions::default();
        self.liveness
            .set_rtt(now.saturating_duration_since(sent_at));
        self.mesh_ip = done.remote_mesh_ip;
        self.install(Arc::new(done.session), now, &mut actions);
        self.note_received(src, now, &mut actions);
        // Confirm the session to the responder at once, with data if we have it.
        if actions.send.is_empty() {
            actions.keepalive = true;
        }
        Ok(actions)
    }

    /// Whether an initiation stamped `timestamp` is newer than every one
    /// accepted so far (checked before any other work on a known peer).
    pub fn initiation_is_fresh(&self, timestamp: Tai64N) -> bool {
        self.last_init_timestamp.is_none_or(|last| timestamp > last)
    }

    /// Message 1 from this peer, already authenticated by Noise. Writes the
    /// response into `out`; the new session waits in `next`.
    pub fn accept_initiation(
        &mut self,
        received: ReceivedInitiation,
        src: Endpoint,
        own_mesh_ip: Ipv4Addr,
        local_index: u32,
        now: Instant,
        out: &mut [u8; RESP_LEN],
    ) -> Result<Actions, InitiationRejected> {
        if !self.initiation_is_fresh(received.timestamp) {
            return Err(InitiationRejected::Replay);
        }
        self.last_init_timestamp = Some(received.timestamp);
        let mut actions = Actions::default();
        self.mesh_ip = received.mesh_ip;
        if self.endpoint != Some(src) {
            if self.endpoint.is_some() {
                actions.events.push(TunnelEvent::EndpointChanged);
            }
            self.endpoint = Some(src);
        }
        let session = received.respond(local_index, own_mesh_ip, now, out);
        retire(&mut self.next, &mut actions.retired);
        self.next = Some(Arc::new(session));
        Ok(actions)
    }
}
