//! A data-plane thread that panics: contained, reported as a `fault`, counted.
//! The panic comes from a test clock, so production code has no hook for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::*;
use crate::dataplane::ipv4::packet;

/// Panics when the named thread asks it the time, once armed: what a bug in
/// that thread's loop would do.
struct PanicOn {
    thread: &'static str,
    armed: AtomicBool,
}

impl Clock for PanicOn {
    fn now(&self) -> Instant {
        let here = std::thread::current();
        if self.armed.load(Ordering::SeqCst) && here.name() == Some(self.thread) {
            panic!("injected into {}", self.thread);
        }
        Instant::now()
    }
}

#[test]
fn a_panic_in_any_data_plane_thread_is_contained_and_reported_as_a_fault() {
    for thread in [
        "pim-inbound",
        "pim-outbound",
        "pim-handshakes",
        "pim-timers",
    ] {
        let clock = Arc::new(PanicOn {
            thread,
            armed: AtomicBool::new(false),
        });
        let mut a = start_with_clock(1, loopback(), snapshot(IP_A, vec![]), clock.clone());
        clock.armed.store(true, Ordering::SeqCst);
        // Work for each thread: a datagram in, a handshake for the worker,
        // a packet out; timers tick.
        loopback().send_to(b"junk", a.addr).unwrap();
        let mut init = [0u8; crate::proto::wire::INIT_LEN];
        let ts = crate::proto::tai64n::Tai64N([1; 12]);
        let me = StaticKeys::from_private([9; 32]);
        crate::proto::handshake::initiate(&me, &key(1), 7, ts, IP_B, &mut init);
        loopback().send_to(&init, a.addr).unwrap();
        a.kernel.send(&packet(IP_A, IP_B, b"out")).unwrap();
        wait_for("the fault event", || {
            saw(
                &a,
                |e| matches!(e, Event::Fault { message } if message.contains(thread) && message.contains("panicked")),
            )
        });
        assert_eq!(a.engine.stats().thread_panics, 1, "{thread}");
        let t = Instant::now();
        a.engine.stop();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{thread}: stop still joins every thread"
        );
    }
}
