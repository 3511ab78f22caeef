//! Anti-replay sliding window over transport counters (RFC 6479 style, as
//! WireGuard): a ring of 128 64-bit blocks = 8192 bits. One block is always
//! being rotated in, so counters up to `WINDOW` behind the newest are
//! tracked; older ones are rejected, as is every counter seen before.
//!
//! Only counters of *authenticated* packets are recorded (`accept` is called
//! after decryption succeeds), so a forger cannot move the window.

const BLOCK_BITS_LOG: u32 = 6;
const BLOCK_BITS: u64 = 1 << BLOCK_BITS_LOG;
const RING_BLOCKS: u64 = 128;
/// How far behind the newest counter a packet may arrive and still be accepted.
pub const WINDOW: u64 = (RING_BLOCKS - 1) * BLOCK_BITS;
/// Counters at or above this are never accepted, so the 64-bit nonce space
/// cannot wrap (WireGuard's REJECT_AFTER_MESSAGES).
pub const REJECT_AFTER_MESSAGES: u64 = u64::MAX - (1 << 13);

#[derive(Clone)]
pub struct ReplayWindow {
    newest: u64,
    ring: [u64; RING_BLOCKS as usize],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        ReplayWindow {
            newest: 0,
            ring: [0; RING_BLOCKS as usize],
        }
    }
}

fn slot(counter: u64) -> (usize, u64) {
    let block = ((counter >> BLOCK_BITS_LOG) % RING_BLOCKS) as usize;
    (block, 1u64 << (counter & (BLOCK_BITS - 1)))
}

impl ReplayWindow {
    /// Cheap pre-check before spending a decryption: false means the packet
    /// is certainly a replay or too old.
    pub fn may_accept(&self, counter: u64) -> bool {
        if counter >= REJECT_AFTER_MESSAGES {
            return false;
        }
        if counter > self.newest {
            return true;
        }
        if self.newest - counter > WINDOW {
            return false;
        }
        let (block, bit) = slot(counter);
        self.ring[block] & bit == 0
    }

    /// Records an authenticated counter. Returns false (and records nothing)
    /// for a duplicate, a counter too far behind, or one past the limit.
    pub fn accept(&mut self, counter: u64) -> bool {
        if counter >= REJECT_AFTER_MESSAGES {
            return false;
        }
        if counter > self.newest {
            let current = self.newest >> BLOCK_BITS_LOG;
            let target = counter >> BLOCK_BITS_LOG;
            // Blocks the window slides over hold counters from a whole ring
            // ago: clear them (at most the whole ring).
            let advance = (target - current).min(RING_BLOCKS);
            for i in 1..=advance {
                self.ring[((current + i) % RING_BLOCKS) as usize] = 0;
            }
            self.newest = counter;
        } else if self.newest - counter > WINDOW {
            return false;
        }
        let (block, bit) = slot(counter);
        let seen = self.ring[block] & bit != 0;
        self.ring[block] |= bit;
        !seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// WireGuard's published counter table (wireguard-go replay_test.go,
    /// ported from the Linux kernel's selftest), case numbers kept.
    #[test]
    fn wireguard_counter_table() {
        let mut w = ReplayWindow::default();
        const T_LIM: u64 = WINDOW + 1;
        const R: u64 = REJECT_AFTER_MESSAGES;
        let cases: [(u64, bool); 34] = [
            (0, true),                        // 1
            (1, true),                        // 2
            (1, false),                       // 3
            (9, true),                        // 4
            (8, true),                        // 5
            (7, true),                        // 6
            (7, false),                       // 7
            (T_LIM, true),                    // 8
            (T_LIM - 1, true),                // 9
            (T_LIM - 1, false),               // 10
            (T_LIM - 2, true),                // 11
            (2, true),                        // 12
            (2, false),                       // 13
            (T_LIM + 16, true),               // 14
            (3, false),                       // 15
            (T_LIM + 16, false),              // 16
            (T_LIM * 4, true),                // 17
            (T_LIM * 4 - (T_LIM - 1), true),  // 18
            (10, false),                      // 19
            (T_LIM * 4 - T_LIM, false),       // 20
            (T_LIM * 4 - (T_LIM + 1), false), // 21
            (T_LIM * 4 - (T_LIM - 2), true),  // 22
            (T_LIM * 4 + 1 - T_LIM, false),   // 23
            (0, false),                       // 24
            (R, false),                       // 25
            (R - 1, true),                    // 26
            (R, false),                       // 27
            (R - 1, false),                   // 28
            (R - 2, true),                    // 29
            (R + 1, false),                   // 30
            (R + 2, false),                   // 31
            (R - 2, false),                   // 32
            (R - 3, true),                    // 33
            (0, false),                       // 34
        ];
        for (i, (counter, expected)) in cases.iter().enumerate() {
            assert_eq!(
                w.may_accept(*counter) && w.accept(*counter),
                *expected,
                "case {}",
                i + 1
            );
        }
    }

    fn run(counters: impl IntoIterator<Item = u64>) -> (ReplayWindow, Vec<bool>) {
        let mut w = ReplayWindow::default();
        let results = counters.into_iter().map(|c| w.accept(c)).collect();
        (w, results)
    }

    #[test]
    fn bulk_ascending_whole_window_then_zero() {
        let (mut w, r) = run(1..=WINDOW);
        assert!(r.iter().all(|&ok| ok));
        assert!(w.accept(0));
        assert!(!w.accept(0));
    }

    #[test]
    fn bulk_ascending_past_window_then_one() {
        let (mut w, r) = run(2..=WINDOW + 1);
        assert!(r.iter().all(|&ok| ok));
        assert!(w.accept(1));
        assert!(!w.accept(0));
    }

    #[test]
    fn bulk_descending_whole_window() {
        let (_, r) = run((1..=WINDOW + 1).rev());
        assert!(r.iter().all(|&ok| ok));
    }

    #[test]
    fn bulk_descending_then_too_old() {
        let (mut w, r) = run((2..=WINDOW + 2).rev());
        assert!(r.iter().all(|&ok| ok));
        assert!(!w.accept(0));
    }

    #[test]
    fn bulk_descending_then_next() {
        let (mut w, r) = run((1..=WINDOW).rev());
        assert!(r.iter().all(|&ok| ok));
        assert!(w.accept(WINDOW + 1));
        assert!(!w.accept(0));
    }

    #[test]
    fn bulk_descending_then_zero_then_next() {
        let (mut w, r) = run((1..=WINDOW).rev());
        assert!(r.iter().all(|&ok| ok));
        assert!(w.accept(0));
        assert!(w.accept(WINDOW + 1));
    }

    #[test]
    fn may_accept_never_changes_state() {
        let mut w = ReplayWindow::default();
        assert!(w.accept(5));
        assert!(w.may_accept(100));
        assert!(w.may_accept(4));
        assert!(!w.may_accept(5));
        assert!(w.accept(4));
    }

    /// The obvious model: a set of every counter seen and the newest one.
    fn naive_accept(
        seen: &mut std::collections::HashSet<u64>,
        newest: &mut Option<u64>,
        c: u64,
    ) -> bool {
        if c >= REJECT_AFTER_MESSAGES {
            return false;
        }
        if let Some(n) = *newest {
            if c < n && n - c > WINDOW {
                return false;
            }
        }
        if !seen.insert(c) {
            return false;
        }
        *newest = Some(newest.map_or(c, |n| n.max(c)));
        true
    }

    proptest! {
        /// Random streams with reordering, duplicates and jumps agree with the model.
        #[test]
        fn matches_naive_model(steps in prop::collection::vec((0u64..20_000, 0u8..4), 1..2000)) {
            let mut w = ReplayWindow::default();
            let mut seen = std::collections::HashSet::new();
            let mut newest = None;
            let mut base = 0u64;
            for (delta, kind) in steps {
                let c = match kind {
                    0 => base + delta % 64,                       // near the front
                    1 => base.saturating_sub(delta % (WINDOW + 200)), // reordered or too old
                    2 => { base += delta; base }                  // jump ahead
                    _ => newest.unwrap_or(0),                      // duplicate of the newest
                };
                let expected = naive_accept(&mut seen, &mut newest, c);
                prop_assert_eq!(w.may_accept(c) && w.accept(c), expected, "counter {}", c);
            }
        }
    }
}
