//! The forwarding threads and what they share.
//!
//! Threads (all owned by `Engine`, joined by `stop()`):
//!   outbound  TUN → lookup by destination mesh IP → seal → UDP
//!   inbound   UDP → parse → handshake, or open → source check → TUN
//!   timers    every TICK: each peer's retries, keepalives, rekeys, liveness
//!
//! Lock order: a peer's tunnel mutex may be held while briefly *reading* the
//! registry; the registry lock is never held while taking a tunnel mutex.
//! No lock is held while sealing, opening or doing I/O.

pub mod actions;
pub mod context;
pub mod handshakes;
pub mod icmp;
pub mod inbound;
pub mod ipv4;
pub mod outbound;
pub mod registry;
pub mod timer;

/// Largest IP packet the data plane carries (the TUN MTU is far below).
pub const MAX_PACKET: usize = 65535;
/// Room for a sealed packet: header, packet, tag.
pub const MAX_SEALED: usize = MAX_PACKET + crate::proto::wire::TRANSPORT_MIN_LEN;
