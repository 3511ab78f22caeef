//! A token bucket for things a remote party can trigger at will (events,
//! control messages): `per_sec` sustained, bursts up to `burst`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TokenBucket {
    per_sec: u32,
    burst: u32,
    state: Mutex<(u32, Instant)>,
}

impl TokenBucket {
    pub fn new(per_sec: u32, burst: u32, now: Instant) -> Self {
        TokenBucket {
            per_sec,
            burst,
            state: Mutex::new((burst, now)),
        }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&self, now: Instant) -> bool {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = &mut *guard;
        let refill = (now.saturating_duration_since(*last).as_millis() as u64
            * u64::from(self.per_sec)
            / 1000) as u32;
        if refill > 0 {
            *tokens = (*tokens + refill).min(self.burst);
            *last += Duration::from_millis(u64::from(refill) * 1000 / u64::from(self.per_sec));
        }
        if *tokens == 0 {
            return false;
        }
        *tokens -= 1;
        true
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
}
