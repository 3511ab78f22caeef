//! The handshake worker thread: every Diffie-Hellman the node does for a
//! peer's handshake happens here, off the data path.
//!
//! 1. take the next datagram from the bounded queue (waiting a little when
//!    it is empty, so the thread notices a stop)
//! 2. parse it again (the queue holds copies) and hand it to `handshakes`
//! 3. send what it answered

use std::sync::Arc;
use std::time::Duration;

use crate::proto::wire::{self, Message};

use super::context::Context;
use super::handshakes;
use super::tx::Tx;

/// How long the worker waits for a job before it looks at `stopping`.
const IDLE_WAIT: Duration = Duration::from_millis(100);

pub fn run(ctx: Arc<Context>) {
    let mut tx = Tx::default();
    while !ctx.stopping() {
        let Some(job) = ctx.handshakes.pop(IDLE_WAIT) else {
            continue;
        };
        let now = ctx.clock.now();
        match wire::parse(job.datagram()) {
            Ok(Message::Initiation(i)) => {
                handshakes::on_initiation(&ctx, &i, job.src, &mut tx, now)
            }
            Ok(Message::Response(r)) => handshakes::on_response(&ctx, &r, job.src, &mut tx, now),
            Ok(Message::CookieReply(c)) => handshakes::on_cookie_reply(&ctx, &c),
            // The gate queues only these three.
            Ok(Message::Transport(_)) | Err(_) => {}
        }
        // At once: under a flood the queue is never empty, and an answer
        // held back is a handshake lost.
        tx.flush(&ctx);
    }
}
