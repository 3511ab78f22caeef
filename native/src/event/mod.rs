//! Facts the engine reports to the control plane. They leave the data plane
//! through one bounded, non-blocking sink; a full sink drops the event and
//! counts it, so a slow JavaScript loop can never stall forwarding. Kinds a
//! remote party can trigger at will are rate-limited first (`limits`).

mod limits;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::proto::endpoint::Endpoint;
use crate::snapshot::PublicKey;
use crate::stats::Stats;
use limits::FloodLimits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A session is up (first handshake, or again after being down).
    Connected {
        public_key: PublicKey,
        endpoint: Endpoint,
        mesh_ip: Ipv4Addr,
    },
    /// No authenticated packet for the liveness bound; sessions dropped.
    Disconnected { public_key: PublicKey },
    /// No response within the 5 s handshake budget (`pair_failed` reason `timeout`).
    HandshakeTimeout { public_key: PublicKey },
    /// The peer roamed: its latest authenticated packet came from here.
    EndpointChanged {
        public_key: PublicKey,
        endpoint: Endpoint,
    },
    /// A handshake addressed to us failed verification (`noise handshake rejected`).
    HandshakeRejected { source: Endpoint },
    /// A handshake from a key the trust policy refuses (`untrusted peer ID`).
    Untrusted {
        public_key: PublicKey,
        source: Endpoint,
    },
    /// The trust policy of a new snapshot no longer admits this peer, which
    /// had dialled in: its sessions are gone and it is not redialled.
    Revoked { public_key: PublicKey },
    /// A peer claimed a mesh IP outside the prefix or held by another node.
    MeshIpConflict {
        public_key: PublicKey,
        mesh_ip: Ipv4Addr,
    },
    /// A peer's advertisement for the control plane (roles, routes), whole.
    Control {
        public_key: PublicKey,
        payload: Vec<u8>,
    },
    /// The reply to a probe the control plane asked for (`Engine::probe`).
    ProbeReply {
        public_key: PublicKey,
        rtt: Duration,
    },
    /// A bound the engine keeps against floods refused something.
    LimitReached {
        /// Which bound: `dynamic_peers`.
        limit: &'static str,
        detail: String,
    },
    /// A data-plane thread hit an error it cannot recover from, or panicked.
    Fault { message: String },
}

/// Where events go. Implementations must not block.
pub trait EventSink: Send + Sync {
    /// Returns false when the event could not be queued.
    fn emit(&self, event: Event) -> bool;
}

pub struct Events {
    sink: Box<dyn EventSink>,
    limits: FloodLimits,
}

impl Events {
    pub fn new(sink: Box<dyn EventSink>) -> Self {
        Events {
            sink,
            limits: FloodLimits::new(Instant::now()),
        }
    }

    /// Rate limits count real time, whatever clock the data plane runs on:
    /// they protect the control plane, which lives in real time.
    pub fn emit(&self, event: Event, stats: &Stats) {
        if !self.limits.allow(&event, Instant::now()) || !self.sink.emit(event) {
            Stats::inc(&stats.events_dropped);
        }
    }
}

#[cfg(test)]
pub mod testing {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects events for assertions.
    #[derive(Clone, Default)]
    pub struct Recorder(pub Arc<Mutex<Vec<Event>>>);

    impl EventSink for Recorder {
        fn emit(&self, event: Event) -> bool {
            self.0.lock().unwrap().push(event);
            true
        }
    }

    impl Recorder {
        pub fn take(&self) -> Vec<Event> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }
}
