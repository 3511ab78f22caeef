//! Half-open handshakes (docs/PROTOCOL.md §4.11): initiations from keys the
//! node has no peer for, answered but not yet confirmed. They live here,
//! keyed by the index the response named, instead of as peers: a stranger
//! gets a peer and its mesh IP only with its first authenticated transport
//! message (key confirmation), so initiations that are never confirmed
//! (from spoofed sources, or a flood of fresh keys) claim nothing.
//!
//! The table is bounded and every entry expires with the handshake budget;
//! a full table evicts its oldest entry, since an honest initiator confirms
//! within one round trip.
//!
//! Lock order: the registry's lock, then this table's (index allocation
//! checks both, so an index is unique across them).

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use crate::proto::endpoint::Endpoint;
use crate::proto::session::Session;
use crate::proto::tai64n::Tai64N;
use crate::proto::timers::HANDSHAKE_BUDGET;
use crate::snapshot::PublicKey;

/// Half-open handshakes held at most.
pub const MAX_HALF_OPEN: usize = 1024;

pub struct Entry {
    pub public_key: PublicKey,
    /// None while the response is being written.
    pub session: Option<Arc<Session>>,
    pub endpoint: Endpoint,
    pub mesh_ip: Ipv4Addr,
    pub timestamp: Tai64N,
    created: Instant,
}

#[derive(Default)]
pub struct HalfOpen {
    entries: HashMap<u32, Entry>,
    /// The one entry per key: a newer initiation replaces the older.
    by_key: HashMap<PublicKey, u32>,
    /// Indices oldest first; may name entries already gone.
    order: VecDeque<(u32, Instant)>,
}

/// What making room cost.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reserved {
    /// An entry still within its budget was evicted: the table was full.
    pub evicted: bool,
}

impl HalfOpen {
    pub fn contains(&self, index: u32) -> bool {
        self.entries.contains_key(&index)
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        self.entries.len()
    }

    /// Whether an initiation stamped `timestamp` from `key` is newer than the
    /// one held for it (a replay of it would otherwise replace it).
    pub fn is_fresh(&self, key: &PublicKey, timestamp: Tai64N) -> bool {
        let held = self.by_key.get(key).and_then(|i| self.entries.get(i));
        held.is_none_or(|e| timestamp > e.timestamp)
    }

    /// The session to open a transport message for `index` with.
    pub fn session(&self, index: u32) -> Option<Arc<Session>> {
        self.entries.get(&index)?.session.clone()
    }

    /// Holds a handshake at `index` (the caller drew it unique), replacing
    /// the key's older one; evicts the oldest if the table is full.
    pub fn reserve(
        &mut self,
        index: u32,
        public_key: PublicKey,
        endpoint: Endpoint,
        mesh_ip: Ipv4Addr,
        timestamp: Tai64N,
        now: Instant,
    ) -> Reserved {
        self.expire(now);
        if let Some(old) = self.by_key.get(&public_key).copied() {
            self.remove(old);
        }
        let mut reserved = Reserved::default();
        while self.entries.len() >= MAX_HALF_OPEN {
            let (oldest, _) = self.order.pop_front().expect("entries are in order");
            reserved.evicted |= self.remove(oldest).is_some();
        }
        self.entries.insert(
            index,
            Entry {
                public_key,
                session: None,
                endpoint,
                mesh_ip,
                timestamp,
                created: now,
            },
        );
        self.by_key.insert(public_key, index);
        self.order.push_back((index, now));
        reserved
    }

    /// The response is written: the entry can be confirmed now. False if it
    /// was evicted meanwhile.
    pub fn fill(&mut self, index: u32, session: Arc<Session>) -> bool {
        match self.entries.get_mut(&index) {
            Some(e) => {
                e.session = Some(session);
                true
            }
            None => false,
        }
    }

    pub fn remove(&mut self, index: u32) -> Option<Entry> {
        let entry = self.entries.remove(&index)?;
        if self.by_key.get(&entry.public_key) == Some(&index) {
            self.by_key.remove(&entry.public_key);
        }
        Some(entry)
    }

    /// Drops every entry older than the handshake budget; how many went.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut gone = 0;
        while let Some(&(index, created)) = self.order.front() {
            if now.saturating_duration_since(created) < HANDSHAKE_BUDGET {
                break;
            }
            self.order.pop_front();
            if self
                .entries
                .get(&index)
                .is_some_and(|e| e.created == created)
            {
                self.remove(index);
                gone += 1;
            }
        }
        // Entries removed by confirmation leave their place in `order`
        // behind; they go when they reach the front, within the budget.
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 9);

    fn src() -> Endpoint {
        Endpoint::Udp("198.18.0.1:9100".parse().unwrap())
    }

    fn reserve(t: &mut HalfOpen, index: u32, key: u8, ts: u8, now: Instant) -> Reserved {
        t.reserve(index, [key; 32], src(), IP, Tai64N([ts; 12]), now)
    }

    #[test]
    fn entries_expire_with_the_handshake_budget() {
        let t0 = Instant::now();
        let mut t = HalfOpen::default();
        reserve(&mut t, 1, 1, 1, t0);
        reserve(&mut t, 2, 2, 1, t0 + Duration::from_secs(1));
        assert_eq!(
            t.expire(t0 + HANDSHAKE_BUDGET - Duration::from_millis(1)),
            0
        );
        assert_eq!(t.expire(t0 + HANDSHAKE_BUDGET), 1);
        assert!(!t.contains(1) && t.contains(2));
        assert_eq!(t.expire(t0 + HANDSHAKE_BUDGET + Duration::from_secs(1)), 1);
        assert_eq!(t.held(), 0);
    }

    #[test]
    fn a_full_table_evicts_its_oldest_entry_and_says_so() {
        let t0 = Instant::now();
        let mut t = HalfOpen::default();
        for i in 0..MAX_HALF_OPEN as u32 {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            let r = t.reserve(i, key, src(), IP, Tai64N([0; 12]), t0);
            assert_eq!(r, Reserved::default());
        }
        assert_eq!(t.held(), MAX_HALF_OPEN);
        let r = reserve(&mut t, 99_999, 0xee, 1, t0 + Duration::from_millis(1));
        assert!(r.evicted, "the bound was reached");
        assert_eq!(t.held(), MAX_HALF_OPEN);
        assert!(!t.contains(0), "the oldest went");
        assert!(t.contains(99_999));
    }

    #[test]
    fn one_entry_per_key_and_a_replay_of_it_is_not_fresh() {
        let t0 = Instant::now();
        let mut t = HalfOpen::default();
        reserve(&mut t, 1, 7, 5, t0);
        assert!(!t.is_fresh(&[7; 32], Tai64N([5; 12])), "the same timestamp");
        assert!(t.is_fresh(&[7; 32], Tai64N([6; 12])));
        assert!(t.is_fresh(&[8; 32], Tai64N([0; 12])), "another key");
        reserve(&mut t, 2, 7, 6, t0);
        assert!(!t.contains(1) && t.contains(2), "the newer replaced it");
        assert!(t.session(2).is_none(), "not filled yet");
        assert_eq!(t.held(), 1);
    }
}
