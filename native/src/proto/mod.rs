//! The wire protocol, sans-IO: bytes and `now` in, decisions out. Nothing in
//! here touches a socket, a device, a thread or napi.

pub mod admission;
pub mod control;
pub mod cookie;
pub mod endpoint;
pub mod handshake;
pub mod liveness;
pub mod low_order;
pub mod mac;
pub mod replay;
pub mod session;
pub mod tai64n;
pub mod timers;
pub mod tunnel;
pub mod wire;

#[cfg(test)]
mod tunnel_tests;
#[cfg(test)]
mod vectors_tests;
