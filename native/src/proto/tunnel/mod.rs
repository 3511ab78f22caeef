//! The per-peer protocol state machine, sans-IO: handshake attempts, the
//! current / previous / next sessions, the endpoint, and the timers. Every
//! method takes `now` and returns what to do; the data plane does the I/O.
//!
//! Sessions: `current` seals outbound traffic. After a rekey the old one
//! stays as `previous` so packets in flight still open. A responder's new
//! session waits in `next` until the initiator's first packet on it proves
//! the initiator has it too (WireGuard's key confirmation).
//!
//! Handshakes (starting, completing and answering one) are in `handshakes`,
//! probes and liveness in `proto::liveness`.
//!
//! Concurrency: a `Tunnel` lives in its peer's mutex; the data plane holds
//! that lock only to decide, never while sealing or opening.

mod handshakes;

use handshakes::Pending;
pub use handshakes::{CompleteError, InitiationContext, InitiationRejected};

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::endpoint::Endpoint;
use super::liveness::Liveness;
use super::session::Session;
use super::tai64n::Tai64N;
use super::timers::*;

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
    /// The peer's last cookie (§4.10) and when it came.
    cookie: Option<(super::cookie::Cookie, Instant)>,
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
            cookie: None,
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

    /// A peer that dialled in may be collected: down, with nothing in flight
    /// or held, and unheard of for `idle` (§4.11).
    pub fn is_idle(&self, now: Instant, idle: Duration) -> bool {
        !self.persistent
            && !self.connected
            && self.pending.is_none()
            && self.queue.is_empty()
            && self.indices().is_empty()
            && self
                .liveness
                .last_received()
                .is_none_or(|t| now.saturating_duration_since(t) >= idle)
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
