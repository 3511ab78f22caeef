//! The bounded queue between the inbound thread and the handshake worker
//! (docs/PROTOCOL.md §4.10). The inbound thread never waits on it: a full
//! queue sheds the datagram (counted), so a flood of handshakes costs the
//! data path one copy each, never a Diffie-Hellman. Its length is also the
//! load signal that makes the inbound thread ask for cookies.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::proto::endpoint::Endpoint;
use crate::proto::wire::INIT_WITH_MAC2_LEN;

/// Handshake datagrams waiting for the worker at most. One Noise read takes
/// about 0.2 ms, so a full queue is about 50 ms of work.
pub const HANDSHAKE_QUEUE: usize = 256;
/// From this many waiting, the node is under load: initiations need mac2.
pub const UNDER_LOAD_AT: usize = HANDSHAKE_QUEUE / 8;

/// One handshake datagram (the largest is an initiation with mac2) and
/// where it came from.
pub struct Job {
    bytes: [u8; INIT_WITH_MAC2_LEN],
    len: usize,
    pub src: Endpoint,
}

impl Job {
    pub fn datagram(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

pub struct HandshakeQueue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

impl Default for HandshakeQueue {
    fn default() -> Self {
        HandshakeQueue {
            jobs: Mutex::new(VecDeque::with_capacity(HANDSHAKE_QUEUE)),
            ready: Condvar::new(),
        }
    }
}

impl HandshakeQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a copy of `datagram` (a handshake message, at most 152 bytes);
    /// false when the queue is full.
    pub fn push(&self, datagram: &[u8], src: Endpoint) -> bool {
        let mut jobs = self.lock();
        if jobs.len() >= HANDSHAKE_QUEUE || datagram.len() > INIT_WITH_MAC2_LEN {
            return false;
        }
        let mut job = Job {
            bytes: [0; INIT_WITH_MAC2_LEN],
            len: datagram.len(),
            src,
        };
        job.bytes[..datagram.len()].copy_from_slice(datagram);
        jobs.push_back(job);
        drop(jobs);
        self.ready.notify_one();
        true
    }

    /// The next job, waiting at most `wait` for one.
    pub fn pop(&self, wait: Duration) -> Option<Job> {
        let jobs = self.lock();
        let (mut jobs, _) = self
            .ready
            .wait_timeout_while(jobs, wait, |j| j.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        jobs.pop_front()
    }

    /// How many datagrams wait: the load signal.
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    /// Ends the worker's wait (the engine is stopping).
    pub fn wake(&self) {
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_and_sheds_what_does_not_fit() {
        let q = HandshakeQueue::default();
        let src = Endpoint::Udp("198.18.0.1:1".parse().unwrap());
        for i in 0..HANDSHAKE_QUEUE {
            assert!(q.push(&[i as u8; 80], src), "{i}");
        }
        assert!(!q.push(&[0; 80], src), "full: shed");
        assert!(
            !q.push(&[0; INIT_WITH_MAC2_LEN + 1], src),
            "no handshake is that long"
        );
        assert_eq!(q.waiting(), HANDSHAKE_QUEUE);
        let first = q.pop(Duration::ZERO).unwrap();
        assert_eq!(first.datagram(), &[0; 80][..], "first in, first out");
        assert!(q.push(&[0; 136], src), "room again");
        while q.pop(Duration::ZERO).is_some() {}
        assert!(q.pop(Duration::from_millis(1)).is_none());
    }
}
