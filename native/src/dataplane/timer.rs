//! The timer thread: every TICK, each peer's handshake retries, keepalives,
//! rekeys, session expiry and liveness (proto::tunnel::Tunnel::tick).

use std::sync::Arc;
use std::time::Instant;

use crate::proto::timers::TICK;

use super::context::Context;
use super::{actions, MAX_SEALED};

pub fn run(ctx: Arc<Context>) {
    let mut scratch = vec![0u8; MAX_SEALED];
    while !ctx.stopping() {
        if ctx.waker.sleep(TICK) {
            return;
        }
        tick_all(&ctx, &mut scratch, ctx.clock.now());
    }
}

pub fn tick_all(ctx: &Context, scratch: &mut [u8], now: Instant) {
    let peers = ctx.registry().peers();
    for peer in peers {
        let acts = peer.lock().tick(now);
        if !acts.is_empty() {
            actions::run(ctx, &peer, acts, scratch, now);
        }
    }
}
