//! Facts the engine reports to the control plane. They leave the data plane
//! through one bounded, non-blocking sink; a full sink drops the event and
//! counts it, so a slow JavaScript loop can never stall forwarding.

use std::net::Ipv4Addr;
use std::time::Instant;

use crate::proto::endpoint::Endpoint;
use crate::ratelimit::TokenBucket;
use crate::snapshot::PublicKey;
use crate::stats::Stats;

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
    /// A data-plane thread hit an error it cannot recover from.
    Fault { message: String },
}

/// Where events go. Implementations must not block.
pub trait EventSink: Send + Sync {
    /// Returns false when the event could not be queued.
    fn emit(&self, event: Event) -> bool;
}

/// Rate limit for events an attacker can trigger at will (rejected,
/// untrusted and mesh-IP-conflicting handshakes): one shared token bucket.
const FLOOD_EVENTS_PER_SEC: u32 = 5;
const FLOOD_BURST: u32 = 10;

pub struct Events {
    sink: Box<dyn EventSink>,
    flood: TokenBucket,
}

impl Events {
    pub fn new(sink: Box<dyn EventSink>) -> Self {
        Events {
            sink,
            flood: TokenBucket::new(FLOOD_EVENTS_PER_SEC, FLOOD_BURST, Instant::now()),
        }
    }

    pub fn emit(&self, event: Event, stats: &Stats) {
        let floodable = matches!(
            event,
            Event::HandshakeRejected { .. }
                | Event::Untrusted { .. }
                | Event::MeshIpConflict { .. }
        );
        if floodable && !self.flood.take(Instant::now()) {
            Stats::inc(&stats.events_dropped);
            return;
        }
        if !self.sink.emit(event) {
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

    #[test]
    fn a_flood_of_rejections_is_capped_and_counted() {
        let rec = Recorder::default();
        let events = Events::new(Box::new(rec.clone()));
        let stats = Stats::default();
        let src = Endpoint::Udp("198.18.0.9:1".parse().unwrap());
        for _ in 0..1000 {
            events.emit(Event::HandshakeRejected { source: src }, &stats);
        }
        events.emit(
            Event::Disconnected {
                public_key: [1; 32],
            },
            &stats,
        );
        let got = rec.take();
        assert!(
            got.len() <= FLOOD_BURST as usize + 2,
            "{} events passed",
            got.len()
        );
        assert_eq!(
            got.last(),
            Some(&Event::Disconnected {
                public_key: [1; 32]
            }),
            "other kinds are never limited"
        );
        assert!(stats.snapshot().events_dropped >= 1000 - u64::from(FLOOD_BURST) - 1);
    }
}
