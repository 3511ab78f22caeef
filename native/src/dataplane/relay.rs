//! Relaying. A datagram between this node and a non-neighbour, or between two
//! other nodes, travels inside hop-by-hop sessions wrapped in a relay envelope
//! (control payload 0x04: TTL, destination node_id). The datagram itself is an
//! end-to-end pim message (handshake or transport), so a relay reads only the
//! envelope. Envelopes are accepted only from direct neighbours, never nested.

use std::sync::Arc;
use std::time::Instant;

use crate::proto::control::{RelayHeader, RELAY_HEADER_LEN};
use crate::proto::endpoint::Endpoint;
use crate::stats::Stats;

use super::context::Context;
use super::registry::Peer;
use super::tx::Tx;

/// An envelope that arrived from the neighbour `from`; `envelope` holds it
/// whole (`header` parsed from it). True when it is addressed to this node:
/// the caller processes the datagram inside. Otherwise it has been passed on
/// or dropped (and counted).
pub fn on_envelope(
    ctx: &Context,
    from: &Arc<Peer>,
    header: RelayHeader,
    envelope: &mut [u8],
    tx: &mut Tx,
    now: Instant,
) -> bool {
    if !matches!(from.lock().endpoint, Some(Endpoint::Udp(_))) {
        Stats::inc(&ctx.stats.drop_relay_nested);
        return false;
    }
    if header.dst == ctx.node_id {
        Stats::inc(&ctx.stats.relayed_received);
        return true;
    }
    if header.ttl <= 1 {
        Stats::inc(&ctx.stats.drop_ttl_expired);
        return false;
    }
    // Never back where it came from: that would be a loop.
    let Some(next) = ctx.next_hop(&header.dst).filter(|n| n != &from.public_key) else {
        Stats::inc(&ctx.stats.drop_no_relay_route);
        return false;
    };
    envelope[1] = header.ttl - 1;
    if tx.forward(ctx, &next, envelope, now) {
        Stats::inc(&ctx.stats.forwarded_packets);
        Stats::add(
            &ctx.stats.forwarded_bytes,
            (envelope.len() - RELAY_HEADER_LEN) as u64,
        );
    }
    false
}
