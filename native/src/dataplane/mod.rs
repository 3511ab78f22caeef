//! The forwarding threads and what they share.
//!
//! Threads (all owned by `Engine`, joined by `stop()`):
//!   outbound  TUN → lookup by destination mesh IP → seal → UDP
//!   inbound   UDP → parse → open → source check → TUN; handshakes only
//!             pass the gate (mac1, cookies under load) into a bounded queue
//!   handshakes the queue → Noise, trust, answer (never on the data path)
//!   timers    every TICK: each peer's retries, keepalives, rekeys, liveness;
//!             half-open handshakes expire, idle dynamic peers are collected
//!
//! Lock order: a peer's tunnel mutex may be held while briefly taking the
//! registry lock (reading it, or writing it to commit a handshake's mesh-IP
//! claim); the registry lock is never held while taking a tunnel mutex. The
//! half-open table's lock is taken last, after the registry's.
//! No lock is held while sealing, opening or doing I/O.
//!
//! Per packet, the forwarding threads take neither the registry lock nor,
//! for most outbound packets, a tunnel mutex: they find peers in the
//! registry's routes (routes.rs) and seal with a peer's send state
//! (send_state.rs), immutable values republished as the registry's write
//! lock and a tunnel's mutex are released. Inbound still takes the peer's
//! mutex to find the session and record liveness.

pub mod actions;
pub mod confirm;
pub mod context;
pub mod gate;
pub mod half_open;
pub mod handshake_queue;
pub mod handshake_worker;
pub mod handshakes;
pub mod icmp;
pub mod inbound;
pub mod ipv4;
pub mod outbound;
pub mod registry;
pub mod relay;
pub mod routes;
pub mod send_state;
pub mod timer;
pub mod tx;

/// Largest IP packet the data plane carries: the largest MTU the config allows.
pub const MAX_PACKET: usize = 9000;
/// Largest datagram it sends or receives: a relayed packet with the end-to-end
/// and the hop transport overheads and the relay envelope.
pub const MAX_DATAGRAM: usize = MAX_PACKET
    + 2 * crate::proto::wire::TRANSPORT_MIN_LEN
    + crate::proto::control::RELAY_HEADER_LEN;
/// The largest inner packet that reaches a relayed peer unfragmented on a
/// 1500-byte underlay: 1500 − IPv4 20 − UDP 8 − two transport overheads
/// (32 each: the relay hop's and the end-to-end session's) − the 18-byte relay header.
pub const RELAYED_MTU: usize = 1500
    - 20
    - 8
    - 2 * crate::proto::wire::TRANSPORT_MIN_LEN
    - crate::proto::control::RELAY_HEADER_LEN;
