//! Outbound: TUN → UDP, on its own thread.
//!
//! 1. read an IP packet from the TUN (non-blocking; poll with the stop waker)
//! 2. route it by destination mesh IP to a peer (registry read lock)
//! 3. under the peer's lock: take its current session, or hold the packet
//!    and ask for a handshake
//! 4. seal outside any lock, send to the peer's endpoint

use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::io::waker::Wait;
use crate::proto::session::SealError;
use crate::proto::tunnel::{Actions, Outbound};
use crate::stats::Stats;

use super::context::Context;
use super::{actions, icmp, ipv4, MAX_PACKET, MAX_SEALED};

pub fn run(ctx: Arc<Context>) {
    let mut packet = vec![0u8; MAX_PACKET];
    let mut sealed = vec![0u8; MAX_SEALED];
    while !ctx.stopping() {
        match ctx.tun.recv(&mut packet) {
            Ok(n) => handle(&ctx, &packet[..n], &mut sealed, ctx.clock.now()),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                match ctx.waker.wait(ctx.tun.raw_fd(), Duration::from_secs(1)) {
                    Ok(Wait::Woken) => return,
                    Ok(_) => {}
                    Err(e) => {
                        return ctx.emit(Event::Fault {
                            message: format!("outbound poll failed: {e}"),
                        })
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                return ctx.emit(Event::Fault {
                    message: format!("reading the TUN device failed: {e}"),
                })
            }
        }
    }
}

/// Drops a packet with a reason and tells the local sender why.
fn refuse(
    ctx: &Context,
    packet: &[u8],
    header: &ipv4::Header,
    code: u8,
    counter: &AtomicU64,
    scratch: &mut [u8],
) {
    Stats::inc(counter);
    if let Some(n) = icmp::unreachable(packet, header, ctx.mesh_ip, code, scratch) {
        if ctx.tun.send(&scratch[..n]).is_ok() {
            Stats::inc(&ctx.stats.icmp_unreachable_sent);
        }
    }
}

pub fn handle(ctx: &Context, packet: &[u8], sealed: &mut [u8], now: Instant) {
    let Some(header) = ipv4::parse(packet) else {
        return Stats::inc(&ctx.stats.drop_not_ipv4);
    };
    let routed = ctx.registry().by_ip(&header.dst);
    let peer = match routed {
        Some(peer) => peer,
        None if ctx.in_mesh(header.dst) => {
            return refuse(
                ctx,
                packet,
                &header,
                icmp::HOST_UNREACHABLE,
                &ctx.stats.drop_no_route,
                sealed,
            )
        }
        // Outside the mesh: the selected gateway, if there is one; otherwise
        // the kill-switch holds (nothing leaves for the internet).
        None => match ctx.internet_peer() {
            Some(gateway) => gateway,
            None => {
                return refuse(
                    ctx,
                    packet,
                    &header,
                    icmp::ADMIN_PROHIBITED,
                    &ctx.stats.drop_no_gateway,
                    sealed,
                )
            }
        },
    };
    let mut acts = Actions::default();
    let decision = peer.lock().outbound(packet, now, &mut acts);
    match decision {
        Outbound::Send(session, endpoint) => match session.seal(packet, sealed, now) {
            Ok(n) => {
                if ctx.send_datagram(&sealed[..n], endpoint) {
                    Stats::inc(&ctx.stats.tx_packets);
                    Stats::add(&ctx.stats.tx_bytes, packet.len() as u64);
                    peer.tx_bytes
                        .fetch_add(packet.len() as u64, Ordering::Relaxed);
                }
            }
            Err(SealError::Expired) => Stats::inc(&ctx.stats.drop_expired),
            Err(SealError::BufferTooSmall) => Stats::inc(&ctx.stats.drop_oversized),
        },
        Outbound::Queued => {}
        Outbound::NoEndpoint => Stats::inc(&ctx.stats.drop_no_endpoint),
    }
    if !acts.is_empty() {
        actions::run(ctx, &peer, acts, sealed, now);
    }
}
