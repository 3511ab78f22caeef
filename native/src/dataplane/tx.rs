//! What a data-plane thread sends: datagrams to peers (straight to a
//! neighbour or through a relay) and packets into the TUN device. Every
//! thread owns one `Tx` (no allocation per packet) and flushes it after each
//! batch of work.
//!
//! Datagrams: SLOTS preallocated slots; one is built in `body()`, which
//! keeps room in front for a relay envelope, so wrapping it costs no copy;
//! `send` queues it, `flush` sends the queue (a full queue flushes itself)
//! with sendmmsg, segmented by the kernel (UDP GSO) while the gauge
//! `offload_udp_gso` says it may be.
//!
//! Packets: `deliver` writes one to the TUN device; with the device's
//! offloads on, segments of one TCP flow are held and written joined
//! (offload::coalesce) at the next flush.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::io::batch;
use crate::offload::coalesce::Coalescer;
use crate::offload::VnetHdr;
use crate::proto::control::{self, RelayHeader, RELAY_HEADER_LEN, RELAY_TTL};
use crate::proto::endpoint::Endpoint;
use crate::snapshot::{NodeId, PublicKey};
use crate::stats::Stats;

use super::context::Context;
use super::MAX_DATAGRAM;

const HEADROOM: usize = RELAY_HEADER_LEN;
/// Datagrams queued at most: more than one 64 KB TCP super-segment cut
/// into tunnel-MTU datagrams, so one flush sends a whole one.
const SLOTS: usize = 64;

pub struct Tx {
    slots: Vec<Vec<u8>>,
    /// Queued datagrams: slot offset, length, destination (slot i holds queue entry i).
    queued: Vec<(usize, usize, SocketAddr)>,
    /// Where a relay envelope is sealed before it takes its slot's place.
    hop: Vec<u8>,
    /// TCP segments held for one joined TUN write.
    coalescer: Coalescer,
}

impl Default for Tx {
    fn default() -> Self {
        Tx {
            slots: (0..SLOTS).map(|_| vec![0; MAX_DATAGRAM]).collect(),
            queued: Vec::with_capacity(SLOTS),
            hop: vec![0; MAX_DATAGRAM],
            coalescer: Coalescer::default(),
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
        if self.queued.len() == SLOTS {
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
        if self.queued.len() == SLOTS {
            self.flush(ctx);
        }
        queued
    }

    /// Seals the envelope in the next slot into the session with the
    /// neighbour `via` and queues the result in that slot's place.
    fn seal_for_relay(&mut self, ctx: &Context, via: &PublicKey, len: usize, now: Instant) -> bool {
        let hop = ctx.routes().by_key(via).cloned();
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

    /// Writes an IP packet into the TUN device, now or (offloads on, a TCP
    /// segment) joined with the next ones of its flow at the next flush.
    pub fn deliver(&mut self, ctx: &Context, packet: &[u8]) {
        let mut write = tun_writer(ctx);
        if ctx.tun.offload() {
            self.coalescer.push(packet, &mut write);
        } else {
            write(&VnetHdr::NONE, packet);
        }
    }

    /// Sends everything queued and writes every packet held.
    pub fn flush(&mut self, ctx: &Context) {
        self.coalescer.flush(&mut tun_writer(ctx));
        if self.queued.is_empty() {
            return;
        }
        let slots = &self.slots;
        let datagrams = self
            .queued
            .iter()
            .enumerate()
            .map(|(i, &(off, len, addr))| (&slots[i][off..off + len], addr));
        let gso = ctx.stats.offload_udp_gso.load(Ordering::Relaxed) == 1;
        let sent = batch::send_all(&ctx.udp, datagrams, gso);
        Stats::add(&ctx.stats.udp_send_errors, sent.failed as u64);
        if sent.gso_refused {
            // The route cannot take segmented sends: every thread stops trying.
            ctx.stats.offload_udp_gso.store(0, Ordering::Relaxed);
        }
        self.queued.clear();
    }
}

/// Writes into the TUN device, counting what fails.
fn tun_writer(ctx: &Context) -> impl FnMut(&VnetHdr, &[u8]) + '_ {
    move |hdr, p| {
        if ctx.tun.send(hdr, p).is_err() {
            Stats::inc(&ctx.stats.tun_write_errors);
        }
    }
}
