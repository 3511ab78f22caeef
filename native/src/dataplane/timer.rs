//! The timer thread: every TICK, each peer's handshake retries, probes,
//! rekeys, session expiry and liveness (proto::tunnel::Tunnel::tick); then
//! half-open handshakes past the budget expire and peers that dialled in
//! and have been down and idle for DYNAMIC_IDLE_AFTER are collected
//! (docs/PROTOCOL.md §4.11).

use std::sync::Arc;
use std::time::Instant;

use crate::proto::timers::TICK;
use crate::stats::Stats;

use super::context::Context;
use super::registry::DYNAMIC_IDLE_AFTER;
use super::{actions, tx::Tx};

pub fn run(ctx: Arc<Context>) {
    let mut tx = Tx::default();
    while !ctx.stopping() {
        if ctx.waker.sleep(TICK) {
            return;
        }
        tick_all(&ctx, &mut tx, ctx.clock.now());
        tx.flush(&ctx);
    }
}

pub fn tick_all(ctx: &Context, tx: &mut Tx, now: Instant) {
    let peers = ctx.registry().peers();
    let mut idle = Vec::new();
    for peer in peers {
        let acts = peer.lock().tick(now);
        if !acts.is_empty() {
            actions::run(ctx, &peer, acts, tx, now);
        }
        if !peer.is_configured() && peer.lock().is_idle(now, DYNAMIC_IDLE_AFTER) {
            idle.push(peer);
        }
    }
    let expired = ctx.half_open().expire(now);
    Stats::add(&ctx.stats.half_open_expired, expired as u64);
    if !idle.is_empty() {
        collect(ctx, &idle);
    }
}

/// Removes idle peers that dialled in; one a snapshot listed meanwhile stays.
fn collect(ctx: &Context, idle: &[std::sync::Arc<super::registry::Peer>]) {
    let mut reg = ctx.registry_mut();
    for peer in idle {
        if !peer.is_configured() && reg.remove(&peer.public_key).is_some() {
            Stats::inc(&ctx.stats.peers_collected);
        }
    }
}
