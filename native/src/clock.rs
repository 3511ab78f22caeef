//! Where the data plane reads the time. Protocol timers take `now` as an
//! argument; the threads get it from here, so tests can move time forward
//! (rekeys, expiry) without sleeping.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// The clock the engine runs on: the system's, unless the test-only
/// environment variable `PIM_TEST_PANIC=<thread>:<file>` asks for a clock
/// that panics in that data-plane thread once `<file>` exists. The namespace
/// tests use it to inject a real data-plane fault into a running daemon
/// (docs/SECURITY.md); the control socket cannot set a daemon's environment.
pub fn engine_clock() -> Arc<dyn Clock> {
    match std::env::var("PIM_TEST_PANIC") {
        Ok(spec) => match spec.split_once(':') {
            Some((thread, trigger)) => Arc::new(PanicWhen {
                thread: thread.to_string(),
                trigger: PathBuf::from(trigger),
            }),
            None => {
                eprintln!("PIM_TEST_PANIC={spec} ignored: expected <thread>:<file>");
                Arc::new(SystemClock)
            }
        },
        Err(_) => Arc::new(SystemClock),
    }
}

struct PanicWhen {
    thread: String,
    trigger: PathBuf,
}

impl Clock for PanicWhen {
    fn now(&self) -> Instant {
        if std::thread::current().name() == Some(self.thread.as_str()) && self.trigger.exists() {
            panic!("PIM_TEST_PANIC: injected into {}", self.thread);
        }
        Instant::now()
    }
}
