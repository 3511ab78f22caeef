//! Probes and liveness for one peer (docs/PROTOCOL.md §5.6), sans-IO: when
//! it was last heard from, whether it is dead, when to probe it, and the
//! round trip its probes (or our handshake) measured.

use std::time::{Duration, Instant};

use super::timers::{DEAD_AFTER, PROBE_INTERVAL};

#[derive(Debug, Clone, Copy)]
struct Probe {
    nonce: u64,
    sent_at: Instant,
    /// Asked for by the control plane, which wants the reply reported.
    requested: bool,
}

#[derive(Debug, Default)]
pub struct Liveness {
    last_received: Option<Instant>,
    rtt: Option<Duration>,
    /// The probe awaiting its reply; a newer probe replaces it.
    outstanding: Option<Probe>,
    last_probe: Option<Instant>,
    probes_sent: u64,
}

/// A reply to the outstanding probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub rtt: Duration,
    pub requested: bool,
}

impl Liveness {
    /// Something authenticated arrived from the peer.
    pub fn heard(&mut self, now: Instant) {
        self.last_received = Some(now);
    }

    pub fn last_received(&self) -> Option<Instant> {
        self.last_received
    }

    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// The round trip our handshake took, until a probe measures a newer one.
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = Some(rtt);
    }

    /// Nothing authenticated for DEAD_AFTER, or never.
    pub fn is_dead(&self, now: Instant) -> bool {
        self.last_received
            .is_none_or(|t| now.saturating_duration_since(t) >= DEAD_AFTER)
    }

    fn send_probe(&mut self, now: Instant, requested: bool) -> u64 {
        self.probes_sent += 1;
        self.outstanding = Some(Probe {
            nonce: self.probes_sent,
            sent_at: now,
            requested,
        });
        self.last_probe = Some(now);
        self.probes_sent
    }

    /// The nonce of the periodic probe due now, if one is.
    pub fn due_probe(&mut self, now: Instant) -> Option<u64> {
        let due = self
            .last_probe
            .is_none_or(|t| now.saturating_duration_since(t) >= PROBE_INTERVAL);
        due.then(|| self.send_probe(now, false))
    }

    /// A probe the control plane asked for, sent now; its reply is reported.
    pub fn request_probe(&mut self, now: Instant) -> u64 {
        self.send_probe(now, true)
    }

    /// A probe reply: the round trip, if it answers the outstanding probe.
    pub fn answered(&mut self, nonce: u64, now: Instant) -> Option<Answer> {
        let probe = self.outstanding.filter(|p| p.nonce == nonce)?;
        self.outstanding = None;
        let rtt = now.saturating_duration_since(probe.sent_at);
        self.rtt = Some(rtt);
        Some(Answer {
            rtt,
            requested: probe.requested,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_probe_is_due_every_interval_and_its_reply_measures_the_round_trip() {
        let t0 = Instant::now();
        let mut l = Liveness::default();
        let first = l.due_probe(t0).expect("the first probe is due at once");
        assert_eq!(l.due_probe(t0 + PROBE_INTERVAL - MS), None);
        assert_eq!(l.answered(first + 1, t0 + 7 * MS), None, "not our nonce");
        let got = l.answered(first, t0 + 7 * MS);
        assert_eq!(
            got,
            Some(Answer {
                rtt: 7 * MS,
                requested: false
            })
        );
        assert_eq!(l.rtt(), Some(7 * MS));
        assert_eq!(l.answered(first, t0 + 9 * MS), None, "answered once");
        assert!(l.due_probe(t0 + PROBE_INTERVAL).is_some());
    }

    #[test]
    fn only_a_requested_probe_is_answered_as_requested() {
        let t0 = Instant::now();
        let mut l = Liveness::default();
        let asked = l.request_probe(t0);
        let got = l.answered(asked, t0 + 3 * MS).unwrap();
        assert!(got.requested);
        // A periodic probe sent after a requested one replaces it.
        let asked = l.request_probe(t0);
        let periodic = l.due_probe(t0 + PROBE_INTERVAL).unwrap();
        assert_eq!(l.answered(asked, t0 + PROBE_INTERVAL), None);
        assert!(!l.answered(periodic, t0 + PROBE_INTERVAL).unwrap().requested);
    }

    #[test]
    fn a_peer_is_dead_after_the_liveness_bound() {
        let t0 = Instant::now();
        let mut l = Liveness::default();
        assert!(l.is_dead(t0), "never heard from");
        l.heard(t0);
        assert!(!l.is_dead(t0 + DEAD_AFTER - MS));
        assert!(l.is_dead(t0 + DEAD_AFTER));
    }
}
