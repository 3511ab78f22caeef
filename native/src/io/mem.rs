//! An in-memory stand-in for the TUN device: one end of a datagram socket
//! pair, so data-plane tests run real threads without root. With offloads,
//! every datagram carries a virtio-net header first, as the device does.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;

use super::{read_packet, write_packet, TunIo};
use crate::offload::VnetHdr;

pub struct MemTun {
    sock: UnixDatagram,
    offload: bool,
}

impl MemTun {
    /// The device side for the engine, and the "kernel" side for the test.
    pub fn pair() -> (MemTun, UnixDatagram) {
        Self::pair_with(false)
    }

    /// The same with a virtio-net header on every datagram both ways.
    pub fn pair_offload() -> (MemTun, UnixDatagram) {
        Self::pair_with(true)
    }

    fn pair_with(offload: bool) -> (MemTun, UnixDatagram) {
        let (a, b) = UnixDatagram::pair().expect("socketpair");
        a.set_nonblocking(true).expect("nonblocking");
        (MemTun { sock: a, offload }, b)
    }
}

impl TunIo for MemTun {
    fn recv(&self, buf: &mut [u8]) -> io::Result<(VnetHdr, usize)> {
        read_packet(self.sock.as_raw_fd(), self.offload, buf)
    }

    fn send(&self, hdr: &VnetHdr, packet: &[u8]) -> io::Result<usize> {
        write_packet(self.sock.as_raw_fd(), self.offload, hdr, packet)
    }

    fn offload(&self) -> bool {
        self.offload
    }

    fn raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
