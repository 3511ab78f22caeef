//! Token buckets for things a remote party can trigger at will (events,
//! control messages): `per_sec` sustained, bursts up to `burst`. `Bucket` is
//! the plain state, for tables of many (one per key, `KeyedBuckets`);
//! `TokenBucket` is one shared bucket.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_sec: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: u32,
    last: Instant,
}

impl Bucket {
    pub fn full(rate: Rate, now: Instant) -> Self {
        Bucket {
            tokens: rate.burst,
            last: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        let earned = (now.saturating_duration_since(self.last).as_millis() as u64
            * u64::from(rate.per_sec)
            / 1000) as u32;
        if earned > 0 {
            self.tokens = (self.tokens + earned).min(rate.burst);
            self.last += Duration::from_millis(u64::from(earned) * 1000 / u64::from(rate.per_sec));
        }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&mut self, rate: Rate, now: Instant) -> bool {
        self.refill(rate, now);
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// Whether the bucket has refilled completely: nothing to remember.
    pub fn is_full(&mut self, rate: Rate, now: Instant) -> bool {
        self.refill(rate, now);
        self.tokens == rate.burst
    }
}

pub struct TokenBucket {
    rate: Rate,
    state: Mutex<Bucket>,
}

impl TokenBucket {
    pub fn new(per_sec: u32, burst: u32, now: Instant) -> Self {
        let rate = Rate { per_sec, burst };
        TokenBucket {
            rate,
            state: Mutex::new(Bucket::full(rate, now)),
        }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&self, now: Instant) -> bool {
        let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
        bucket.take(self.rate, now)
    }
}

/// A bucket per key (a source address), for at most `max` keys, so the
/// table itself cannot be flooded: keys whose bucket has refilled are
/// forgotten first; while every remembered key is busy, a new key is refused.
pub struct KeyedBuckets<K> {
    rate: Rate,
    max: usize,
    buckets: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Copy> KeyedBuckets<K> {
    pub fn new(rate: Rate, max: usize) -> Self {
        KeyedBuckets {
            rate,
            max,
            buckets: HashMap::new(),
        }
    }

    /// Takes one of `key`'s tokens; false when they are spent or the table
    /// has no room for a new key.
    pub fn take(&mut self, key: K, now: Instant) -> bool {
        if !self.buckets.contains_key(&key) && self.buckets.len() >= self.max {
            let rate = self.rate;
            self.buckets.retain(|_, b| !b.is_full(rate, now));
            if self.buckets.len() >= self.max {
                return false;
            }
        }
        let rate = self.rate;
        self.buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(rate, now))
            .take(rate, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_the_sustained_rate() {
        let t0 = Instant::now();
        let b = TokenBucket::new(5, 10, t0);
        assert_eq!((0..20).filter(|_| b.take(t0)).count(), 10, "the burst");
        assert!(
            !b.take(t0 + Duration::from_millis(100)),
            "less than one token refilled"
        );
        assert!(
            b.take(t0 + Duration::from_millis(200)),
            "one token after 1/5 s"
        );
        assert_eq!(
            (0..20)
                .filter(|_| b.take(t0 + Duration::from_secs(60)))
                .count(),
            10,
            "never more than the burst"
        );
    }

    #[test]
    fn a_bucket_is_full_again_once_it_has_refilled() {
        let rate = Rate {
            per_sec: 2,
            burst: 2,
        };
        let t0 = Instant::now();
        let mut b = Bucket::full(rate, t0);
        assert!(b.take(rate, t0));
        assert!(!b.is_full(rate, t0));
        assert!(b.is_full(rate, t0 + Duration::from_millis(500)));
    }

    #[test]
    fn keyed_buckets_limit_each_key_and_bound_the_table() {
        let rate = Rate {
            per_sec: 20,
            burst: 5,
        };
        let t0 = Instant::now();
        let mut t = KeyedBuckets::new(rate, 3);
        assert_eq!(
            (0..10).filter(|_| t.take(1, t0)).count(),
            5,
            "one key's burst"
        );
        assert!(t.take(2, t0), "another key has its own bucket");
        assert!(t.take(3, t0));
        assert!(!t.take(4, t0), "full of busy keys: a new one is refused");
        let later = t0 + Duration::from_secs(1);
        assert!(
            t.take(4, later),
            "refilled keys were forgotten to make room"
        );
    }
}
