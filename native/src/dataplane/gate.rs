//! What the inbound thread does with a handshake datagram (docs/PROTOCOL.md
//! §4.10): only checks that cost no Diffie-Hellman, then a hand-off.
//!
//! 1. mac1 under our key (initiations and responses); a response or cookie
//!    reply must name an index of ours
//! 2. initiations, under load (the worker's queue is filling): without a
//!    valid mac2, a cookie reply instead of work; with one (or relayed), the
//!    source's token bucket
//! 3. the datagram goes to the handshake worker's bounded queue, or is shed
//!
//! The gate belongs to the inbound thread (no lock); the worker does the rest
//! (`handshakes`).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::proto::cookie::CookieMaker;
use crate::proto::endpoint::Endpoint;
use crate::proto::wire::{self, COOKIE_REPLY_LEN};
use crate::ratelimit::{KeyedBuckets, Rate};
use crate::snapshot::PublicKey;
use crate::stats::Stats;

use super::context::Context;
use super::handshake_queue::UNDER_LOAD_AT;
use super::tx::Tx;

/// Handshake work one source address may cause while the node is under
/// load (WireGuard's values): honest retries are one a second.
pub const PER_SOURCE: Rate = Rate {
    per_sec: 20,
    burst: 5,
};
/// Source addresses with a bucket at most (only sources that answered a
/// cookie get one, so spoofed addresses cannot fill it).
pub const MAX_SOURCES: usize = 4096;
/// How long the node stays under load after its queue was last that long,
/// so it does not flap between asking for cookies and not.
pub const UNDER_LOAD_HOLD: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Ip(IpAddr),
    Relay(PublicKey),
}

impl From<&Endpoint> for Source {
    fn from(e: &Endpoint) -> Self {
        match e {
            Endpoint::Udp(a) => Source::Ip(a.ip()),
            Endpoint::Relay(k) => Source::Relay(*k),
        }
    }
}

pub struct Gate {
    cookies: CookieMaker,
    sources: KeyedBuckets<Source>,
    loaded_at: Option<Instant>,
}

impl Gate {
    pub fn new(own_public: &PublicKey, now: Instant) -> Self {
        Gate {
            cookies: CookieMaker::new(own_public, now),
            sources: KeyedBuckets::new(PER_SOURCE, MAX_SOURCES),
            loaded_at: None,
        }
    }

    fn under_load(&mut self, ctx: &Context, now: Instant) -> bool {
        if ctx.handshakes.waiting() >= UNDER_LOAD_AT {
            if self.loaded_at.is_none() {
                ctx.emit(limit(
                    "handshake_load",
                    "under load: initiations need a cookie".into(),
                ));
            }
            self.loaded_at = Some(now);
        }
        match self.loaded_at {
            Some(t) if now.saturating_duration_since(t) < UNDER_LOAD_HOLD => true,
            _ => {
                self.loaded_at = None;
                false
            }
        }
    }

    pub fn initiation(
        &mut self,
        ctx: &Context,
        init: &wire::Initiation<'_>,
        datagram: &[u8],
        src: Endpoint,
        tx: &mut Tx,
        now: Instant,
    ) {
        if !ctx.keys.own_mac1().verify(init.mac_input, init.mac1) {
            Stats::inc(&ctx.stats.drop_bad_mac);
            return ctx.emit(Event::HandshakeRejected { source: src });
        }
        if self.under_load(ctx, now) {
            // A relayed initiation's sender is unknown before the DH, so no
            // cookie reply can reach it; its neighbour's bucket still applies.
            let relayed = matches!(src, Endpoint::Relay(_));
            if !relayed && !self.cookies.mac2_valid(init, &src, now) {
                Stats::inc(&ctx.stats.drop_needs_cookie);
                let out: &mut [u8; COOKIE_REPLY_LEN] = (&mut tx.body()[..COOKIE_REPLY_LEN])
                    .try_into()
                    .expect("the body holds a cookie reply");
                self.cookies.reply(init, &src, now, out);
                if tx.send(ctx, COOKIE_REPLY_LEN, src, &[0; 16], now) {
                    Stats::inc(&ctx.stats.cookie_replies_sent);
                }
                return;
            }
            if !self.sources.take(Source::from(&src), now) {
                Stats::inc(&ctx.stats.drop_rate_limited);
                return ctx.emit(limit(
                    "handshake_rate",
                    format!("{src} over its handshake rate"),
                ));
            }
        }
        enqueue(ctx, datagram, src);
    }

    pub fn response(
        &mut self,
        ctx: &Context,
        resp: &wire::Response<'_>,
        datagram: &[u8],
        src: Endpoint,
    ) {
        if !ctx.keys.own_mac1().verify(resp.mac_input, resp.mac1) {
            return Stats::inc(&ctx.stats.drop_bad_mac);
        }
        ours(ctx, resp.receiver_index, datagram, src);
    }

    pub fn cookie_reply(
        &mut self,
        ctx: &Context,
        reply: &wire::CookieReply<'_>,
        datagram: &[u8],
        src: Endpoint,
    ) {
        ours(ctx, reply.receiver_index, datagram, src);
    }
}

/// Only an index of ours is worth the worker's time.
fn ours(ctx: &Context, index: u32, datagram: &[u8], src: Endpoint) {
    if ctx.routes().by_index(index).is_none() {
        return Stats::inc(&ctx.stats.drop_unknown_index);
    }
    enqueue(ctx, datagram, src);
}

fn enqueue(ctx: &Context, datagram: &[u8], src: Endpoint) {
    if !ctx.handshakes.push(datagram, src) {
        Stats::inc(&ctx.stats.drop_handshake_overload);
        ctx.emit(limit(
            "handshake_queue",
            "the handshake queue is full: shedding".into(),
        ));
    }
}

pub fn limit(limit: &'static str, detail: String) -> Event {
    Event::LimitReached { limit, detail }
}
