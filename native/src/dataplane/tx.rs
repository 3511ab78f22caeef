//! Outgoing datagrams, straight to a neighbour or through a relay. Every
//! data-plane thread owns one `Tx` (no allocation per packet): a datagram is
//! built in `body()`, which keeps room in front for a relay envelope, so
//! wrapping it for a relay costs no copy.

use std::time::Instant;

use crate::proto::control::{self, RelayHeader, RELAY_HEADER_LEN, RELAY_TTL};
use crate::proto::endpoint::Endpoint;
use crate::proto::wire::TRANSPORT_MIN_LEN;
use crate::snapshot::{NodeId, PublicKey};
use crate::stats::Stats;

use super::context::Context;
use super::MAX_SEALED;

const HEADROOM: usize = RELAY_HEADER_LEN;

pub struct Tx {
    buf: Vec<u8>,
    hop: Vec<u8>,
}

impl Default for Tx {
    fn default() -> Self {
        Tx {
            buf: vec![0; HEADROOM + MAX_SEALED],
            hop: vec![0; HEADROOM + MAX_SEALED + TRANSPORT_MIN_LEN],
        }
    }
}

impl Tx {
    /// Where to build the datagram.
    pub fn body(&mut self) -> &mut [u8] {
        &mut self.buf[HEADROOM..]
    }

    /// Sends the first `len` bytes of `body()`, a datagram for the node `dst`.
    pub fn send(
        &mut self,
        ctx: &Context,
        len: usize,
        to: Endpoint,
        dst: &NodeId,
        now: Instant,
    ) -> bool {
        match to {
            Endpoint::Udp(addr) => ctx.send_datagram(&self.buf[HEADROOM..HEADROOM + len], addr),
            Endpoint::Relay(via) => {
                let header = RelayHeader {
                    ttl: RELAY_TTL,
                    dst: *dst,
                };
                control::write_relay_header(&mut self.buf[..HEADROOM], &header);
                relay_through(ctx, &via, &self.buf[..HEADROOM + len], &mut self.hop, now)
            }
        }
    }

    /// Passes a relay envelope on to the neighbour `via`.
    pub fn forward(
        &mut self,
        ctx: &Context,
        via: &PublicKey,
        envelope: &[u8],
        now: Instant,
    ) -> bool {
        relay_through(ctx, via, envelope, &mut self.hop, now)
    }
}

/// Seals a relay envelope into the session with the neighbour `via` and sends it.
fn relay_through(
    ctx: &Context,
    via: &PublicKey,
    envelope: &[u8],
    out: &mut [u8],
    now: Instant,
) -> bool {
    let hop = ctx.registry().by_key(via);
    let direct = hop
        .as_ref()
        .and_then(|h| match h.lock().sending_session(now) {
            Some((session, Endpoint::Udp(addr))) => Some((session, addr)),
            // A relay must be a neighbour: never nest envelopes.
            _ => None,
        });
    let Some((session, addr)) = direct else {
        Stats::inc(&ctx.stats.drop_no_relay_route);
        return false;
    };
    match session.seal(envelope, out, now) {
        Ok(n) => ctx.send_datagram(&out[..n], addr),
        Err(_) => {
            Stats::inc(&ctx.stats.drop_expired);
            false
        }
    }
}
