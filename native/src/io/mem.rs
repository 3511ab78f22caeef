//! An in-memory stand-in for the TUN device: one end of a datagram socket
//! pair, so data-plane tests run real threads without root.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;

use super::TunIo;

pub struct MemTun(UnixDatagram);

impl MemTun {
    /// The device side for the engine, and the "kernel" side for the test.
    pub fn pair() -> (MemTun, UnixDatagram) {
        let (a, b) = UnixDatagram::pair().expect("socketpair");
        a.set_nonblocking(true).expect("nonblocking");
        (MemTun(a), b)
    }
}

impl TunIo for MemTun {
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.recv(buf)
    }

    fn send(&self, packet: &[u8]) -> io::Result<usize> {
        self.0.send(packet)
    }

    fn raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}
