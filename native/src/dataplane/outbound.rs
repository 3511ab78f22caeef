//! Outbound: TUN → UDP, on its own thread.
//!
//! 1. read an IP packet from the TUN (non-blocking; poll with the stop waker);
//!    with the device's offloads on, a TCP super-segment is cut into packets
//!    and a partial checksum completed first (offload::split), then each
//!    packet goes on alone
//! 2. route it: a mesh address to its peer (the registry's routes, read
//!    without a lock: routes.rs); any other address to the selected gateway,
//!    or refuse it (the kill-switch)
//! 3. take the peer's current session from its send state when it needs no
//!    decision (send_state.rs, no lock); otherwise under the peer's lock:
//!    take the session (asking for a rekey when due), or hold the packet and
//!    ask for a handshake
//! 4. seal outside any lock; send to the peer's endpoint, or wrap it for the
//!    relay that leads to the peer

use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::io::waker::Wait;
use crate::offload::split::{self, Segments};
use crate::offload::{VnetHdr, GSO_NONE, MAX_SUPER_PACKET};
use crate::proto::endpoint::Endpoint;
use crate::proto::session::{SealError, Session};
use crate::proto::tunnel::{Actions, Outbound};
use crate::stats::Stats;

use super::context::Context;
use super::registry::Peer;
use super::tx::Tx;
use super::{actions, icmp, ipv4, MAX_PACKET, RELAYED_MTU};
use crate::io::batch::BATCH;

pub fn run(ctx: Arc<Context>) {
    let mut packet = vec![
        0u8;
        if ctx.tun.offload() {
            MAX_SUPER_PACKET
        } else {
            MAX_PACKET
        }
    ];
    let mut segment = vec![0u8; MAX_PACKET];
    let mut tx = Tx::default();
    while !ctx.stopping() {
        // Take what the TUN holds, up to a batch, then send it in one go.
        let mut taken = 0;
        while taken < BATCH {
            match ctx.tun.recv(&mut packet) {
                Ok((hdr, n)) => {
                    let now = ctx.clock.now();
                    take(&ctx, &hdr, &mut packet[..n], &mut segment, &mut tx, now);
                    taken += 1;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    tx.flush(&ctx);
                    return ctx.emit(Event::Fault {
                        message: format!("reading the TUN device failed: {e}"),
                    });
                }
            }
        }
        tx.flush(&ctx);
        if taken == 0 {
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
    }
}

/// One read from the TUN: a packet, or a super-segment to cut into packets.
fn take(
    ctx: &Context,
    hdr: &VnetHdr,
    packet: &mut [u8],
    segment: &mut [u8],
    tx: &mut Tx,
    now: Instant,
) {
    if hdr.gso_type == GSO_NONE {
        if hdr.needs_csum() && split::complete_checksum(packet, hdr).is_err() {
            return Stats::inc(&ctx.stats.drop_bad_offload);
        }
        return handle(ctx, packet, tx, now);
    }
    match Segments::new(hdr, packet, segment.len()) {
        Ok(mut segments) => {
            while let Some(n) = segments.next_into(segment) {
                handle(ctx, &segment[..n], tx, now);
            }
        }
        Err(_) => Stats::inc(&ctx.stats.drop_bad_offload),
    }
}

/// Drops a packet with a reason and tells the local sender why.
fn refuse(
    ctx: &Context,
    packet: &[u8],
    header: &ipv4::Header,
    unreachable: icmp::Unreachable,
    counter: &AtomicU64,
    tx: &mut Tx,
) {
    Stats::inc(counter);
    if let Some(n) = icmp::unreachable(packet, header, ctx.mesh_ip, unreachable, tx.body()) {
        if ctx.tun.send(&VnetHdr::NONE, &tx.body()[..n]).is_ok() {
            Stats::inc(&ctx.stats.icmp_unreachable_sent);
        }
    }
}

pub fn handle(ctx: &Context, packet: &[u8], tx: &mut Tx, now: Instant) {
    let Some(header) = ipv4::parse(packet) else {
        return Stats::inc(&ctx.stats.drop_not_ipv4);
    };
    let routes = ctx.routes();
    let gateway;
    let peer = match routes.by_ip(&header.dst) {
        Some(peer) => peer,
        None if ctx.in_mesh(header.dst) => {
            return refuse(
                ctx,
                packet,
                &header,
                icmp::Unreachable::Host,
                &ctx.stats.drop_no_route,
                tx,
            )
        }
        // Outside the mesh: the selected gateway, if there is one; otherwise
        // the kill-switch holds (nothing leaves for the internet).
        None => {
            gateway = ctx.internet_peer();
            match &gateway {
                Some(gateway) => gateway,
                None => {
                    return refuse(
                        ctx,
                        packet,
                        &header,
                        icmp::Unreachable::AdminProhibited,
                        &ctx.stats.drop_no_gateway,
                        tx,
                    )
                }
            }
        }
    };
    // Most packets: the current session needs no decision, so no lock.
    if let Some(s) = peer.sending().as_ref().filter(|s| s.ready(now)) {
        return seal(
            ctx,
            peer,
            packet,
            &header,
            (&s.session, s.endpoint),
            tx,
            now,
        );
    }
    let mut acts = Actions::default();
    let decision = peer.lock().outbound(packet, now, &mut acts);
    match decision {
        Outbound::Send(session, endpoint) => {
            seal(ctx, peer, packet, &header, (&session, endpoint), tx, now)
        }
        Outbound::Queued => {}
        Outbound::NoEndpoint => Stats::inc(&ctx.stats.drop_no_endpoint),
    }
    if !acts.is_empty() {
        actions::run(ctx, peer, acts, tx, now);
    }
}

/// Seals one packet with the session and queues it for the endpoint.
fn seal(
    ctx: &Context,
    peer: &Peer,
    packet: &[u8],
    header: &ipv4::Header,
    (session, endpoint): (&Session, Endpoint),
    tx: &mut Tx,
    now: Instant,
) {
    // A relay adds its envelope: bigger packets would fragment on the
    // underlay, so a sender that forbids fragmentation learns the path MTU.
    if matches!(endpoint, Endpoint::Relay(_)) && packet.len() > RELAYED_MTU && header.dont_fragment
    {
        return refuse(
            ctx,
            packet,
            header,
            icmp::Unreachable::FragmentationNeeded(RELAYED_MTU as u16),
            &ctx.stats.drop_oversized,
            tx,
        );
    }
    match session.seal(packet, tx.body(), now) {
        Ok(n) => {
            if tx.send(ctx, n, endpoint, &peer.node_id, now) {
                Stats::inc(&ctx.stats.tx_packets);
                Stats::add(&ctx.stats.tx_bytes, packet.len() as u64);
                peer.tx_bytes
                    .fetch_add(packet.len() as u64, Ordering::Relaxed);
            }
        }
        Err(SealError::Expired) => Stats::inc(&ctx.stats.drop_expired),
        Err(SealError::BufferTooSmall) => Stats::inc(&ctx.stats.drop_oversized),
    }
}
