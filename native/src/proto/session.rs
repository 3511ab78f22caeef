//! One transport keypair from a completed handshake: sealing with an explicit
//! 64-bit counter and opening through the replay window.
//!
//! Concurrency: a `Session` is shared (`Arc`) by the outbound thread (seal)
//! and the inbound thread (open). Sealing only bumps an atomic counter;
//! opening takes the replay window's own mutex, which only the inbound
//! thread contends for. snow's stateless transport takes `&self`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::replay::{ReplayWindow, REJECT_AFTER_MESSAGES};
use super::timers::REJECT_AFTER_TIME;
use super::wire::{self, AEAD_TAG_LEN, TRANSPORT_HEADER_LEN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// Older than REJECT_AFTER_TIME or out of counters: a new handshake is needed.
    Expired,
    BufferTooSmall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    Expired,
    Replay,
    Decrypt,
    BufferTooSmall,
}

pub struct Session {
    pub local_index: u32,
    pub remote_index: u32,
    pub initiator: bool,
    pub created: Instant,
    transport: snow::StatelessTransportState,
    next_counter: AtomicU64,
    replay: Mutex<ReplayWindow>,
}

impl Session {
    pub fn new(
        transport: snow::StatelessTransportState,
        local_index: u32,
        remote_index: u32,
        initiator: bool,
        now: Instant,
    ) -> Self {
        Session {
            local_index,
            remote_index,
            initiator,
            created: now,
            transport,
            next_counter: AtomicU64::new(0),
            replay: Mutex::new(ReplayWindow::default()),
        }
    }

    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.created)
    }

    pub fn expired(&self, now: Instant) -> bool {
        self.age(now) >= REJECT_AFTER_TIME
    }

    /// Messages sealed so far (the next counter).
    pub fn sent(&self) -> u64 {
        self.next_counter.load(Ordering::Relaxed)
    }

    /// Writes a whole transport datagram (header + ciphertext) into `out`.
    pub fn seal(&self, payload: &[u8], out: &mut [u8], now: Instant) -> Result<usize, SealError> {
        let total = TRANSPORT_HEADER_LEN + payload.len() + AEAD_TAG_LEN;
        if out.len() < total {
            return Err(SealError::BufferTooSmall);
        }
        if self.expired(now) {
            return Err(SealError::Expired);
        }
        let counter = self.next_counter.fetch_add(1, Ordering::Relaxed);
        if counter >= REJECT_AFTER_MESSAGES {
            return Err(SealError::Expired);
        }
        wire::write_transport_header(out, self.remote_index, counter);
        let n = self
            .transport
            .write_message(counter, payload, &mut out[TRANSPORT_HEADER_LEN..total])
            .map_err(|_| SealError::BufferTooSmall)?;
        Ok(TRANSPORT_HEADER_LEN + n)
    }

    /// Decrypts into `out` and records the counter. Returns the payload length
    /// (0 = keepalive).
    pub fn open(
        &self,
        msg: &wire::Transport<'_>,
        out: &mut [u8],
        now: Instant,
    ) -> Result<usize, OpenError> {
        if out.len() + AEAD_TAG_LEN < msg.ciphertext.len() {
            return Err(OpenError::BufferTooSmall);
        }
        if self.expired(now) {
            return Err(OpenError::Expired);
        }
        if !self
            .replay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .may_accept(msg.counter)
        {
            return Err(OpenError::Replay);
        }
        let n = self
            .transport
            .read_message(msg.counter, msg.ciphertext, out)
            .map_err(|_| OpenError::Decrypt)?;
        // Re-checked under the lock: the window may have moved meanwhile.
        if !self
            .replay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .accept(msg.counter)
        {
            return Err(OpenError::Replay);
        }
        Ok(n)
    }
}
