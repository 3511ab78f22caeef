//! Outgoing datagrams, straight to a neighbour or through a relay, sent in
//! batches (sendmmsg). Every data-plane thread owns one `Tx` of BATCH
//! preallocated slots (no allocation per packet): a datagram is built in
//! `body()`, which keeps room in front for a relay envelope, so wrapping it
//! costs no copy; `send` queues it, and `flush` sends the queue (a full
//! queue flushes itself). Threads flush after each batch of work.

use std::net::SocketAddr;
use std::time::Instant;

use crate::io::batch::{self, BATCH};
use crate::proto::control::{self, RelayHeader, RELAY_HEADER_LEN, RELAY_TTL};
use crate::proto::endpoint::Endpoint;
use crate::snapshot::{NodeId, PublicKey};
use crate::stats::Stats;

use super::context::Context;
use super::MAX_DATAGRAM;

const HEADROOM: usize = RELAY_HEADER_LEN;

pub struct Tx {
    slots: Vec<Vec<u8>>,
    /// Queued datagrams: slot offset, length, destination (slot i holds queue entry i).
    queued: Vec<(usize, usize, SocketAddr)>,
    /// Where a relay envelope is sealed before it takes its slot's place.
    hop: Vec<u8>,
}

impl Default for Tx {
    fn default() -> Self {
        Tx {
            slots: (0..BATCH).map(|_| vec![0; MAX_DATAGRAM]).collect(),
            queued: Vec::with_capacity(BATCH),
            hop: vec![0; MAX_DATAGRAM],
        }
    }
}

impl Tx {
    /// Where to build the next datagram.
    pub fn body(&mut self) -> &mut [u8] {
        let slot = self.queued.len();
        &mut self.slots[slot][HEADROOM..]
    }

    /// Queues the first `len` bytes of `body()`, a datagram for the node `dst`.
    pub fn send(
        &mut self,
        ctx: &Context,
        len: usize,
        to: Endpoint,
        dst: &NodeId,
        now: Instant,
    ) -> bool {
        let slot = self.queued.len();
        let queued = match to {
            Endpoint::Udp(addr) => {
                self.queued.push((HEADROOM, len, addr));
                true
            }
            Endpoint::Relay(via) => {
                let header = RelayHeader {
                    ttl: RELAY_TTL,
                    dst: *dst,
                };
                control::write_relay_header(&mut self.slots[slot][..HEADROOM], &header);
                self.seal_for_relay(ctx, &via, HEADROOM + len, now)
            }
        };
        if self.queued.len() == BATCH {
            self.flush(ctx);
        }
        queued
    }

    /// Queues an envelope received for another node, on to the neighbour `via`.
    pub fn forward(
        &mut self,
        ctx: &Context,
        via: &PublicKey,
        envelope: &[u8],
        now: Instant,
    ) -> bool {
        let slot = self.queued.len();
        self.slots[slot][..envelope.len()].copy_from_slice(envelope);
        let queued = self.seal_for_relay(ctx, via, envelope.len(), now);
        if self.queued.len() == BATCH {
            self.flush(ctx);
        }
        queued
    }

    /// Seals the envelope in the next slot into the session with the
    /// neighbour `via` and queues the result in that slot's place.
    fn seal_for_relay(&mut self, ctx: &Context, via: &PublicKey, len: usize, now: Instant) -> bool {
        let hop = ctx.registry().by_key(via);
        let direct = hop
            .as_ref()
            .and_then(|h| match h.lock().sending_session(now) {
                Some((session, Endpoint::Udp(addr))) => Some((session, addr)),
                // A relay must be a neighbour: envelopes never nest.
                _ => None,
            });
        let Some((session, addr)) = direct else {
            Stats::inc(&ctx.stats.drop_no_relay_route);
            return false;
        };
        let slot = self.queued.len();
        match session.seal(&self.slots[slot][..len], &mut self.hop, now) {
            Ok(n) => {
                std::mem::swap(&mut self.slots[slot], &mut self.hop);
                self.queued.push((0, n, addr));
                true
            }
            Err(_) => {
                Stats::inc(&ctx.stats.drop_expired);
                false
            }
        }
    }

    /// Sends everything queued.
    pub fn flush(&mut self, ctx: &Context) {
        if self.queued.is_empty() {
            return;
        }
        let slots = &self.slots;
        let datagrams = self
            .queued
            .iter()
            .enumerate()
            .map(|(i, &(off, len, addr))| (&slots[i][off..off + len], addr));
        let failed = batch::send_all(&ctx.udp, datagrams);
        Stats::add(&ctx.stats.udp_send_errors, failed as u64);
        self.queued.clear();
    }
}
