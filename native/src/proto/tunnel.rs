//! The per-peer protocol state machine, sans-IO: handshake attempts, the
//! current / previous / next sessions, the endpoint, and the timers. Every
//! method takes `now` and returns what to do; the data plane does the I/O.
//!
//! Sessions: `current` seals outbound traffic. After a rekey the old one
//! stays as `previous` so packets in flight still open. A responder's new
//! session waits in `next` until the initiator's first packet on it proves
//! the initiator has it too (WireGuard's key confirmation).
//!
//! Concurrency: a `Tunnel` lives in its peer's mutex; the data plane holds
//! that lock only to decide, never while sealing or opening.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::admission::Refusal;
use super::endpoint::Endpoint;
use super::handshake::{self, Initiation, ReceivedInitiation, StaticKeys};
use super::liveness::Liveness;
use super::session::Session;
use super::tai64n::Tai64N;
use super::timers::*;
use super::wire::{self, INIT_LEN, RESP_LEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelEvent {
    /// First working session after being down (or ever).
    Connected,
    /// Nothing authenticated for DEAD_AFTER: the sessions are gone.
    Disconnected,
    /// A handshake attempt got no valid response within HANDSHAKE_BUDGET.
    HandshakeTimeout,
    /// An authenticated packet came from a new address (roaming).
    EndpointChanged,
}

/// What a handshake needs from the node: its keys, address, the time and a
/// fresh session index (unique among the node's sessions).
pub struct InitiationContext<'a> {
    pub keys: &'a StaticKeys,
    pub own_mesh_ip: Ipv4Addr,
    pub wall_clock: Tai64N,
    pub local_index: u32,
    pub jitter: Duration,
}

struct Pending {
    initiation: Initiation,
    attempt_started: Instant,
    sent_at: Instant,
    retry_at: Instant,
}

/// The result of any operation: packets to seal and send, whether to start
/// a handshake, session indices that are gone, and events to report.
#[derive(Debug, Default)]
pub struct Actions {
    pub send: Vec<Vec<u8>>,
    pub keepalive: bool,
    pub initiate: bool,
    pub retired: Vec<u32>,
    pub events: Vec<TunnelEvent>,
    /// Held packets dropped: to keep the queue bounded, or because the handshake failed.
    pub dropped_queued: usize,
    /// A session was installed (a handshake completed or was confirmed).
    pub installed: bool,
    /// Send a latency probe with this nonce.
    pub probe: Option<u64>,
}

impl Actions {
    pub fn is_empty(&self) -> bool {
        self.send.is_empty()
            && !self.keepalive
            && !self.initiate
            && self.retired.is_empty()
            && self.events.is_empty()
            && self.dropped_queued == 0
            && !self.installed
            && self.probe.is_none()
    }
}

pub enum Outbound {
    /// Seal with this session and send to this endpoint.
    Send(Arc<Session>, Endpoint),
    /// Held until a handshake completes.
    Queued,
    /// No address to reach the peer at.
    NoEndpoint,
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

pub struct Tunnel {
    pub remote_public: [u8; 32],
    pub persistent: bool,
    pub endpoint: Option<Endpoint>,
    pub mesh_ip: Ipv4Addr,
    pending: Option<Pending>,
    current: Option<Arc<Session>>,
    previous: Option<Arc<Session>>,
    next: Option<Arc<Session>>,
    liveness: Liveness,
    pub last_handshake: Option<Instant>,
    last_init_timestamp: Option<Tai64N>,
    connected: bool,
    failed: bool,
    queue: VecDeque<Vec<u8>>,
}

fn retire(slot: &mut Option<Arc<Session>>, retired: &mut Vec<u32>) {
    if let Some(s) = slot.take() {
        retired.push(s.local_index);
    }
}

impl Tunnel {
    pub fn new(
        remote_public: [u8; 32],
        mesh_ip: Ipv4Addr,
        endpoint: Option<Endpoint>,
        persistent: bool,
    ) -> Self {
        Tunnel {
            remote_public,
            persistent,
            endpoint,
            mesh_ip,
            pending: None,
            current: None,
            previous: None,
            next: None,
            liveness: Liveness::default(),
            last_handshake: None,
            last_init_timestamp: None,
            connected: false,
            failed: false,
            queue: VecDeque::new(),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    pub fn has_failed(&self) -> bool {
        self.failed
    }

    pub fn liveness(&self) -> &Liveness {
        &self.liveness
    }

    fn usable_current(&self, now: Instant) -> Option<&Arc<Session>> {
        self.current.as_ref().filter(|s| !s.expired(now))
    }

    /// The current session and endpoint, expired or not: what the data
    /// plane mirrors for sealing without the lock (dataplane/send_state.rs).
    pub fn current_sending(&self) -> Option<(&Arc<Session>, Endpoint)> {
        Some((self.current.as_ref()?, self.endpoint?))
    }

    /// The session and address to seal a packet to this peer with, if any.
    pub fn sending_session(&self, now: Instant) -> Option<(Arc<Session>, Endpoint)> {
        Some((self.usable_current(now)?.clone(), self.endpoint?))
    }

    /// An outbound packet for this peer: send it now, or hold it while a
    /// handshake (requested through `actions`) runs.
    pub fn outbound(&mut self, packet: &[u8], now: Instant, actions: &mut Actions) -> Outbound {
        let Some(endpoint) = self.endpoint else {
            return Outbound::NoEndpoint;
        };
        if let Some(s) = self.usable_current(now).cloned() {
            if self.needs_rekey(&s, now) && self.may_initiate(now) {
                actions.initiate = true;
            }
            return Outbound::Send(s, endpoint);
        }
        if self.queue.len() == MAX_QUEUED_PACKETS {
            self.queue.pop_front();
            actions.dropped_queued += 1;
        }
        self.queue.push_back(packet.to_vec());
        if self.may_initiate(now) {
            actions.initiate = true;
        }
        Outbound::Queued
    }

    fn needs_rekey(&self, s: &Session, now: Instant) -> bool {
        let limit = if s.initiator {
            REKEY_AFTER_TIME
        } else {
            REKEY_AFTER_TIME_RESPONDER
        };
        s.age(now) >= limit || s.sent() >= REKEY_AFTER_MESSAGES
    }

    /// No new initiation while one is in flight and not yet due for a retry.
    fn may_initiate(&self, now: Instant) -> bool {
        self.endpoint.is_some() && self.pending.as_ref().is_none_or(|p| now >= p.retry_at)
    }

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
        });
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

    /// A probe reply from the peer; the round trip if it answers a probe
    /// the control plane asked for (`request_probe`).
    pub fn probe_answered(&mut self, nonce: u64, now: Instant) -> Option<Duration> {
        self.liveness
            .answered(nonce, now)
            .filter(|a| a.requested)
            .map(|a| a.rtt)
    }

    /// A probe to send now on request; None without a usable session.
    pub fn request_probe(&mut self, now: Instant) -> Option<u64> {
        self.usable_current(now)?;
        Some(self.liveness.request_probe(now))
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

    /// The session an inbound transport message with this index opens with.
    pub fn receiving_session(&self, local_index: u32) -> Option<Arc<Session>> {
        [&self.current, &self.previous, &self.next]
            .into_iter()
            .flatten()
            .find(|s| s.local_index == local_index)
            .cloned()
    }

    /// After a transport message opened: liveness, roaming, key confirmation.
    pub fn after_inbound(&mut self, local_index: u32, src: Endpoint, now: Instant) -> Actions {
        let mut actions = Actions::default();
        if let Some(next) = self
            .next
            .as_ref()
            .filter(|s| s.local_index == local_index)
            .cloned()
        {
            self.next = None;
            self.install(next, now, &mut actions);
        }
        self.note_received(src, now, &mut actions);
        actions
    }

    fn note_received(&mut self, src: Endpoint, now: Instant, actions: &mut Actions) {
        self.liveness.heard(now);
        if self.endpoint != Some(src) {
            if self.endpoint.is_some() {
                actions.events.push(TunnelEvent::EndpointChanged);
            }
            self.endpoint = Some(src);
        }
    }

    fn install(&mut self, session: Arc<Session>, now: Instant, actions: &mut Actions) {
        retire(&mut self.previous, &mut actions.retired);
        self.previous = self.current.take();
        self.current = Some(session);
        self.last_handshake = Some(now);
        self.failed = false;
        actions.installed = true;
        if !self.connected {
            self.connected = true;
            actions.events.push(TunnelEvent::Connected);
        }
        actions.send.extend(self.queue.drain(..));
    }

    /// Timer work, called every TICK.
    pub fn tick(&mut self, now: Instant) -> Actions {
        let mut actions = Actions::default();
        for slot in [&mut self.current, &mut self.previous, &mut self.next] {
            if slot.as_ref().is_some_and(|s| s.expired(now)) {
                retire(slot, &mut actions.retired);
            }
        }
        if self.connected && self.liveness.is_dead(now) {
            self.connected = false;
            actions.events.push(TunnelEvent::Disconnected);
            for slot in [&mut self.current, &mut self.previous, &mut self.next] {
                retire(slot, &mut actions.retired);
            }
        }
        if let Some(p) = &self.pending {
            if now.saturating_duration_since(p.attempt_started) >= HANDSHAKE_BUDGET {
                let p = self.pending.take().expect("checked above");
                actions.retired.push(p.initiation.local_index);
                actions.dropped_queued += self.queue.len();
                self.queue.clear();
                // A failed rekey is not a failed pairing while the old session still works.
                if !self.failed && !self.connected {
                    self.failed = true;
                    actions.events.push(TunnelEvent::HandshakeTimeout);
                }
            } else if now >= p.retry_at {
                actions.initiate = true;
            }
        }
        match self.usable_current(now) {
            Some(s) => {
                if self.pending.is_none() && self.needs_rekey(s, now) {
                    actions.initiate = true;
                }
                actions.probe = self.liveness.due_probe(now);
            }
            None => {
                // A fresh `next` means the peer is handshaking with us right now.
                let answering = self
                    .next
                    .as_ref()
                    .is_some_and(|n| n.age(now) < HANDSHAKE_BUDGET);
                let wanted = self.persistent || !self.queue.is_empty();
                if wanted && self.pending.is_none() && !answering {
                    actions.initiate = true;
                }
            }
        }
        actions.initiate &= self.endpoint.is_some();
        actions
    }

    /// The peer is gone (revoked, forgotten, unlisted): its sessions, the
    /// pending attempt and held packets are dropped, so a thread that still
    /// holds the peer can neither seal nor open with it again.
    pub fn close(&mut self) {
        self.pending = None;
        self.current = None;
        self.previous = None;
        self.next = None;
        self.queue.clear();
        self.connected = false;
        self.persistent = false;
    }

    /// Every session index this tunnel holds (to unregister on removal).
    pub fn indices(&self) -> Vec<u32> {
        let sessions = [&self.current, &self.previous, &self.next]
            .into_iter()
            .flatten()
            .map(|s| s.local_index);
        sessions.chain(self.pending_index()).collect()
    }
}
