//! Rate limits for the events a remote party can trigger at will. Each kind
//! has its own bucket, so a flood of one kind never silences another: junk
//! that fails mac1 or Noise (`handshake_rejected`) cannot hide an `untrusted`
//! refusal, the signal of a changed identity at a pinned address. `untrusted`
//! also has a bucket per public key, so one key refused again and again
//! cannot hide another key's refusal. Kinds the protocol bounds by itself
//! (sessions up and down, revocations, requested probes) are not limited.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::Event;
use crate::ratelimit::{Bucket, Rate, TokenBucket};
use crate::snapshot::PublicKey;

/// Sources are unauthenticated: one bucket for all of them.
const REJECTED: Rate = Rate {
    per_sec: 5,
    burst: 10,
};
const MESH_IP_CONFLICT: Rate = Rate {
    per_sec: 5,
    burst: 10,
};
const LIMIT_REACHED: Rate = Rate {
    per_sec: 1,
    burst: 3,
};
/// One key: its handshake retries (one a second) are all reported.
const UNTRUSTED_PER_KEY: Rate = Rate {
    per_sec: 1,
    burst: 3,
};
/// Every key together, so the control plane is not flooded either; only
/// Noise-valid handshakes from many distinct keys can exhaust it.
const UNTRUSTED_ALL: Rate = Rate {
    per_sec: 20,
    burst: 50,
};
/// Keys with a bucket remembered; past this, idle ones are forgotten first.
const UNTRUSTED_KEYS: usize = 256;

pub struct FloodLimits {
    rejected: TokenBucket,
    conflict: TokenBucket,
    /// One bucket per bound (the names are a fixed set), so a flood against
    /// one bound never hides another reaching its limit.
    limits: Mutex<HashMap<&'static str, Bucket>>,
    untrusted_all: TokenBucket,
    untrusted_keys: Mutex<HashMap<PublicKey, Bucket>>,
}

fn bucket(rate: Rate, now: Instant) -> TokenBucket {
    TokenBucket::new(rate.per_sec, rate.burst, now)
}

impl FloodLimits {
    pub fn new(now: Instant) -> Self {
        FloodLimits {
            rejected: bucket(REJECTED, now),
            conflict: bucket(MESH_IP_CONFLICT, now),
            limits: Mutex::new(HashMap::new()),
            untrusted_all: bucket(UNTRUSTED_ALL, now),
            untrusted_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `event` may go out now (taking its token if it may).
    pub fn allow(&self, event: &Event, now: Instant) -> bool {
        match event {
            Event::HandshakeRejected { .. } => self.rejected.take(now),
            Event::MeshIpConflict { .. } => self.conflict.take(now),
            Event::LimitReached { limit, .. } => {
                let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
                limits
                    .entry(limit)
                    .or_insert_with(|| Bucket::full(LIMIT_REACHED, now))
                    .take(LIMIT_REACHED, now)
            }
            Event::Untrusted { public_key, .. } => self.untrusted(public_key, now),
            _ => true,
        }
    }

    fn untrusted(&self, key: &PublicKey, now: Instant) -> bool {
        let mut keys = self
            .untrusted_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !keys.contains_key(key) && keys.len() >= UNTRUSTED_KEYS {
            // A refilled bucket holds nothing worth keeping.
            keys.retain(|_, b| !b.is_full(UNTRUSTED_PER_KEY, now));
            if keys.len() >= UNTRUSTED_KEYS {
                // Every key is busy: a flood of many keys. The one forgotten
                // starts afresh, still under the shared bucket.
                let any = *keys.keys().next().expect("the table is full");
                keys.remove(&any);
            }
        }
        let own = keys
            .entry(*key)
            .or_insert_with(|| Bucket::full(UNTRUSTED_PER_KEY, now));
        own.take(UNTRUSTED_PER_KEY, now) && self.untrusted_all.take(now)
    }

    #[cfg(test)]
    fn keys_remembered(&self) -> usize {
        self.untrusted_keys.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::endpoint::Endpoint;
    use std::time::Duration;

    fn src() -> Endpoint {
        Endpoint::Udp("198.18.0.9:1".parse().unwrap())
    }

    fn untrusted(k: u8) -> Event {
        Event::Untrusted {
            public_key: [k; 32],
            source: src(),
        }
    }

    fn passed(limits: &FloodLimits, events: &[Event], now: Instant) -> usize {
        events.iter().filter(|e| limits.allow(e, now)).count()
    }

    #[test]
    fn junk_failing_mac1_never_hides_an_untrusted_refusal() {
        let (limits, now) = (FloodLimits::new(Instant::now()), Instant::now());
        let junk = vec![Event::HandshakeRejected { source: src() }; 1000];
        assert_eq!(passed(&limits, &junk, now), REJECTED.burst as usize);
        assert!(limits.allow(&untrusted(1), now));
    }

    #[test]
    fn one_key_refused_again_and_again_never_hides_another_keys_refusal() {
        let (limits, now) = (FloodLimits::new(Instant::now()), Instant::now());
        let flood = vec![untrusted(1); 1000];
        assert_eq!(
            passed(&limits, &flood, now),
            UNTRUSTED_PER_KEY.burst as usize
        );
        assert!(limits.allow(&untrusted(2), now));
        assert!(
            limits.allow(&untrusted(1), now + Duration::from_secs(1)),
            "the flooding key is heard again once a second"
        );
    }

    #[test]
    fn each_floodable_kind_is_capped_by_its_own_bucket() {
        let (limits, now) = (FloodLimits::new(Instant::now()), Instant::now());
        let kinds: [(Event, Rate); 3] = [
            (Event::HandshakeRejected { source: src() }, REJECTED),
            (
                Event::MeshIpConflict {
                    public_key: [1; 32],
                    mesh_ip: "10.77.0.1".parse().unwrap(),
                },
                MESH_IP_CONFLICT,
            ),
            (
                Event::LimitReached {
                    limit: "dynamic_peers",
                    detail: String::new(),
                },
                LIMIT_REACHED,
            ),
        ];
        for (event, rate) in kinds {
            let flood = vec![event.clone(); 100];
            assert_eq!(
                passed(&limits, &flood, now),
                rate.burst as usize,
                "{event:?}"
            );
        }
        let unlimited = vec![
            Event::Revoked {
                public_key: [1; 32]
            };
            100
        ];
        assert_eq!(
            passed(&limits, &unlimited, now),
            100,
            "others are never limited"
        );
    }

    #[test]
    fn many_keys_are_capped_together_and_remembered_within_bounds() {
        let (limits, now) = (FloodLimits::new(Instant::now()), Instant::now());
        let many: Vec<Event> = (0..2000u32)
            .map(|i| Event::Untrusted {
                public_key: {
                    let mut k = [0u8; 32];
                    k[..4].copy_from_slice(&i.to_le_bytes());
                    k
                },
                source: src(),
            })
            .collect();
        assert_eq!(passed(&limits, &many, now), UNTRUSTED_ALL.burst as usize);
        assert!(limits.keys_remembered() <= UNTRUSTED_KEYS);
    }
}
