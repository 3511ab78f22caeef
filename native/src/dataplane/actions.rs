//! Carries out what a tunnel decided: send held packets, keepalives and
//! probes, start handshakes, forget retired session indices, report events.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::event::Event;
use crate::proto::control;
use crate::proto::session::SealError;
use crate::proto::tai64n::Tai64N;
use crate::proto::timers::HANDSHAKE_JITTER_MAX_MS;
use crate::proto::tunnel::{Actions, InitiationContext, TunnelEvent};
use crate::proto::wire::{INIT_LEN, INIT_WITH_MAC2_LEN};
use crate::stats::Stats;

use super::context::Context;
use super::registry::Peer;
use super::tx::Tx;

pub fn run(ctx: &Context, peer: &Arc<Peer>, actions: Actions, tx: &mut Tx, now: Instant) {
    if !actions.retired.is_empty() {
        ctx.registry_mut().release(&actions.retired);
    }
    Stats::add(&ctx.stats.drop_queue_full, actions.dropped_queued as u64);
    if actions.installed {
        Stats::inc(&ctx.stats.handshakes_completed);
    }
    report(ctx, peer, &actions.events);
    if actions.initiate {
        send_initiation(ctx, peer, tx, now);
    }
    for packet in &actions.send {
        if seal_and_send(ctx, peer, packet, tx, now) {
            Stats::inc(&ctx.stats.tx_packets);
            Stats::add(&ctx.stats.tx_bytes, packet.len() as u64);
            peer.tx_bytes
                .fetch_add(packet.len() as u64, Ordering::Relaxed);
        }
    }
    if actions.keepalive && seal_and_send(ctx, peer, &[], tx, now) {
        Stats::inc(&ctx.stats.keepalives_sent);
    }
    if let Some(nonce) = actions.probe {
        if seal_and_send(ctx, peer, &control::probe(nonce), tx, now) {
            Stats::inc(&ctx.stats.probes_sent);
        }
    }
}

/// Seals one payload with the peer's current session and sends it; false if
/// it has no session or the send failed.
pub fn seal_and_send(
    ctx: &Context,
    peer: &Peer,
    payload: &[u8],
    tx: &mut Tx,
    now: Instant,
) -> bool {
    let Some((session, endpoint)) = peer.lock().sending_session(now) else {
        return false;
    };
    match session.seal(payload, tx.body(), now) {
        Ok(n) => tx.send(ctx, n, endpoint, &peer.node_id, now),
        Err(e) => {
            Stats::inc(match e {
                SealError::Expired => &ctx.stats.drop_expired,
                SealError::BufferTooSmall => &ctx.stats.drop_oversized,
            });
            false
        }
    }
}

fn jitter() -> Duration {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).expect("the OS random source works");
    Duration::from_millis(u64::from(u16::from_le_bytes(b)) % (HANDSHAKE_JITTER_MAX_MS + 1))
}

pub fn send_initiation(ctx: &Context, peer: &Arc<Peer>, tx: &mut Tx, now: Instant) {
    // A peer removed meanwhile (revoked, forgotten) gets no new attempt.
    let index = {
        let mut reg = ctx.registry_mut();
        let half_open = ctx.half_open();
        reg.allocate_index(peer, &half_open)
    };
    let Some(index) = index else {
        return;
    };
    let (retired, endpoint, len) = {
        let mut tunnel = peer.lock();
        let Some(endpoint) = tunnel.endpoint else {
            drop(tunnel);
            ctx.registry_mut().release(&[index]);
            return;
        };
        let context = InitiationContext {
            keys: &ctx.keys,
            own_mesh_ip: ctx.mesh_ip,
            wall_clock: Tai64N::from_system_time(SystemTime::now()),
            local_index: index,
            jitter: jitter(),
        };
        let msg: &mut [u8; INIT_LEN] = (&mut tx.body()[..INIT_LEN])
            .try_into()
            .expect("the body holds an initiation");
        let retired = tunnel.begin_initiation(context, now, msg).retired;
        let mac2 = tunnel.mac2(msg, now);
        let len = match mac2 {
            Some(mac2) => {
                tx.body()[INIT_LEN..INIT_WITH_MAC2_LEN].copy_from_slice(&mac2);
                INIT_WITH_MAC2_LEN
            }
            None => INIT_LEN,
        };
        (retired, endpoint, len)
    };
    if !retired.is_empty() {
        ctx.registry_mut().release(&retired);
    }
    if tx.send(ctx, len, endpoint, &peer.node_id, now) {
        Stats::inc(&ctx.stats.handshakes_initiated);
    }
}

fn report(ctx: &Context, peer: &Peer, events: &[TunnelEvent]) {
    if events.is_empty() {
        return;
    }
    let (endpoint, mesh_ip) = {
        let t = peer.lock();
        (t.endpoint, t.mesh_ip)
    };
    let public_key = peer.public_key;
    for e in events {
        let event = match (e, endpoint) {
            (TunnelEvent::Connected, Some(endpoint)) => Event::Connected {
                public_key,
                endpoint,
                mesh_ip,
            },
            (TunnelEvent::EndpointChanged, Some(endpoint)) => Event::EndpointChanged {
                public_key,
                endpoint,
            },
            (TunnelEvent::Disconnected, _) => Event::Disconnected { public_key },
            (TunnelEvent::HandshakeTimeout, _) => Event::HandshakeTimeout { public_key },
            // Connected and roamed always come with an endpoint.
            (TunnelEvent::Connected | TunnelEvent::EndpointChanged, None) => continue,
        };
        ctx.emit(event);
    }
}
