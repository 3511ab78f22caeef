//! The two kinds of I/O the data plane does: IP packets with the TUN device
//! and datagrams on the UDP socket, plus the waker that ends blocking waits.

use std::io;
use std::os::fd::RawFd;

use crate::offload::{VnetHdr, VNET_HDR_LEN};

pub mod batch;
pub mod tun;
pub mod udp;
pub mod waker;

#[cfg(test)]
pub mod mem;

/// The packet side: a TUN device, or a socket pair in tests.
pub trait TunIo: Send + Sync {
    /// Non-blocking: `WouldBlock` when no packet is waiting. With offloads
    /// on, `buf` may get a TCP super-segment (up to 64 KB) that the header
    /// says how to cut; otherwise the header is `VnetHdr::NONE`.
    fn recv(&self, buf: &mut [u8]) -> io::Result<(VnetHdr, usize)>;
    /// Writes one packet, or (offloads on only) a super-segment `hdr` describes.
    fn send(&self, hdr: &VnetHdr, packet: &[u8]) -> io::Result<usize>;
    /// Whether packets cross with a virtio-net header (TSO and checksum
    /// offload on, coalesced writes accepted).
    fn offload(&self) -> bool;
    /// For poll(2).
    fn raw_fd(&self) -> RawFd;
}

/// Whether offloads may be used: `PIM_OFFLOAD=off` in the daemon's
/// environment turns TUN and UDP segmentation offloads off (a
/// troubleshooting switch; README "Performance").
pub fn offload_wanted() -> bool {
    std::env::var("PIM_OFFLOAD").map_or(true, |v| v != "off")
}

/// read(2) for a packet device; with `vnet` the header is read into its own
/// buffer in the same call (readv), so the packet lands at `buf[0]`.
pub fn read_packet(fd: RawFd, vnet: bool, buf: &mut [u8]) -> io::Result<(VnetHdr, usize)> {
    let mut hdr = [0u8; VNET_HDR_LEN];
    let iov = [
        libc::iovec {
            iov_base: hdr.as_mut_ptr().cast(),
            iov_len: VNET_HDR_LEN,
        },
        libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        },
    ];
    let iov = if vnet { &iov[..] } else { &iov[1..] };
    // SAFETY: every iovec points at a live buffer of its stated length.
    let n = unsafe { libc::readv(fd, iov.as_ptr(), iov.len() as libc::c_int) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    if !vnet {
        return Ok((VnetHdr::NONE, n));
    }
    if n < VNET_HDR_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "short virtio-net header",
        ));
    }
    Ok((VnetHdr::decode(&hdr), n - VNET_HDR_LEN))
}

/// write(2) for a packet device; with `vnet` the header goes first in the
/// same call (writev), so no packet is copied to make room for it.
pub fn write_packet(fd: RawFd, vnet: bool, hdr: &VnetHdr, packet: &[u8]) -> io::Result<usize> {
    let hdr = hdr.encode();
    let iov = [
        libc::iovec {
            iov_base: hdr.as_ptr() as *mut libc::c_void,
            iov_len: VNET_HDR_LEN,
        },
        libc::iovec {
            iov_base: packet.as_ptr() as *mut libc::c_void,
            iov_len: packet.len(),
        },
    ];
    let iov = if vnet { &iov[..] } else { &iov[1..] };
    // SAFETY: every iovec points at a live buffer of its stated length; the
    // kernel only reads from them.
    let n = unsafe { libc::writev(fd, iov.as_ptr(), iov.len() as libc::c_int) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize).saturating_sub(if vnet { VNET_HDR_LEN } else { 0 }))
}
