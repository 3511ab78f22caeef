//! Relaying. A datagram between this node and a non-neighbour, or between two
//! other nodes, travels inside hop-by-hop sessions wrapped in a relay envelope
//! (control payload 0x04: TTL, destination node_id). The datagram itself is an
//! end-to-end pim message (handshake or transport), so a relay reads only the
//! envelope. Envelopes are accepted only from direct neighbours, never nested.

use std::sync::Arc;
use std::time::Instant;

use crate::proto::control::RelayHeader;
use crate::proto::endpoint::Endpoint;
use crate::stats::Stats;

use super::context::Context;
use super::inbound;
use super::registry::Peer;
use super::tx::Tx;

/// An envelope that arrived from the neighbour `from`; `plain` holds it whole
/// (`header` parsed from it), `spare` is room to open the datagram inside.
#[allow(clippy::too_many_arguments)]
pub fn on_envelope(
    ctx: &Context,
    from: &Arc<Peer>,
    header: RelayHeader,
    plain: &mut [u8],
    inner_at: usize,
    spare: &mut [u8],
    tx: &mut Tx,
    now: Instant,
) {
    if !matches!(from.lock().endpoint, Some(Endpoint::Udp(_))) {
        return Stats::inc(&ctx.stats.drop_relay_nested);
    }
    if header.dst == ctx.node_id {
        Stats::inc(&ctx.stats.relayed_received);
        return inbound::handle(
            ctx,
            &plain[inner_at..],
            Endpoint::Relay(from.public_key),
            spare,
            &mut [],
            tx,
            now,
        );
    }
    if header.ttl <= 1 {
        return Stats::inc(&ctx.stats.drop_ttl_expired);
    }
    // Never back where it came from: that would be a loop.
    let Some(next) = ctx.next_hop(&header.dst).filter(|n| n != &from.public_key) else {
        return Stats::inc(&ctx.stats.drop_no_relay_route);
    };
    plain[1] = header.ttl - 1;
    if tx.forward(ctx, &next, plain, now) {
        Stats::inc(&ctx.stats.forwarded_packets);
        Stats::add(&ctx.stats.forwarded_bytes, (plain.len() - inner_at) as u64);
    }
}
