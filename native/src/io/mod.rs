//! The two kinds of I/O the data plane does: IP packets with the TUN device
//! and datagrams on the UDP socket, plus the waker that ends blocking waits.

use std::io;
use std::os::fd::RawFd;

pub mod batch;
pub mod tun;
pub mod udp;
pub mod waker;

#[cfg(test)]
pub mod mem;

/// The packet side: a TUN device, or a socket pair in tests.
pub trait TunIo: Send + Sync {
    /// Non-blocking: `WouldBlock` when no packet is waiting.
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn send(&self, packet: &[u8]) -> io::Result<usize>;
    /// For poll(2).
    fn raw_fd(&self) -> RawFd;
}
