//! The timer thread: every TICK, each peer's handshake retries, probes,
//! rekeys, session expiry and liveness (proto::tunnel::Tunnel::tick).

use std::sync::Arc;
use std::time::Instant;

use crate::proto::timers::TICK;

use super::context::Context;
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
    for peer in peers {
        let acts = peer.lock().tick(now);
        if !acts.is_empty() {
            actions::run(ctx, &peer, acts, tx, now);
        }
    }
}
