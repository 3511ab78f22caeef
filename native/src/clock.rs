//! Where the data plane reads the time. Protocol timers take `now` as an
//! argument; the threads get it from here, so tests can move time forward
//! (rekeys, expiry) without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The real clock plus an offset a test can advance.
#[derive(Default)]
pub struct OffsetClock {
    offset_ms: AtomicU64,
}

impl OffsetClock {
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}
