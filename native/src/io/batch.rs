//! Many UDP datagrams per system call over preallocated, bounded buffers
//! (no allocation per packet). IPv4 only, like the underlay socket.
//!
//! Receive: recvmmsg(2). With UDP GRO on, one buffer may hold several
//! datagrams of one sender, all `segment` bytes long but the last; `get`
//! says the size and the caller cuts.
//! Send: sendmmsg(2). With UDP GSO, consecutive datagrams to one address of
//! one size (the last may be shorter) go as one message with a UDP_SEGMENT
//! control message: the kernel builds one buffer for them and cuts it as
//! late as it can (on a veth, not at all until the receiving socket).

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use crate::offload::MAX_SUPER_PACKET;

/// Messages per system call.
pub const BATCH: usize = 32;
/// Receive buffers with GRO on: each takes up to 64 KB of datagrams.
const GRO_BATCH: usize = 16;
/// The kernel's limits for one segmented send (UDP_MAX_SEGMENTS before
/// Linux 6.6; the largest UDP payload of an IPv4 packet).
const GSO_MAX_SEGMENTS: usize = 64;
const GSO_MAX_BYTES: usize = 65535 - 20 - 8;
/// Datagrams one send call can carry, over all its messages.
const SEND_IOVS: usize = 128;
/// Room for one control message of an int (CMSG_SPACE(4) is 24 on Linux).
type Control = [u64; 4];

fn to_sockaddr(addr: &SocketAddr) -> Option<libc::sockaddr_in> {
    let SocketAddr::V4(v4) = addr else {
        return None;
    };
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = v4.port().to_be();
    sa.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
    Some(sa)
}

fn from_sockaddr(sa: &libc::sockaddr_in) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
        u16::from_be(sa.sin_port),
    ))
}

/// Receive side: buffers filled by one recvmmsg.
pub struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    lens: [usize; BATCH],
    /// The size of each datagram in the buffer (GRO), else its length.
    segments: [usize; BATCH],
    truncated: [bool; BATCH],
    addrs: [libc::sockaddr_in; BATCH],
    control: [Control; BATCH],
}

impl RecvBatch {
    /// Buffers for `sock`: BATCH of `datagram_len`, or with GRO on, fewer
    /// that each hold up to 64 KB.
    pub fn new(sock: &UdpSocket, datagram_len: usize) -> Self {
        let (count, len) = if super::udp::gro(sock) {
            (GRO_BATCH, MAX_SUPER_PACKET.max(datagram_len))
        } else {
            (BATCH, datagram_len)
        };
        RecvBatch {
            bufs: (0..count).map(|_| vec![0u8; len]).collect(),
            lens: [0; BATCH],
            segments: [0; BATCH],
            truncated: [false; BATCH],
            // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
            addrs: [unsafe { zeroed() }; BATCH],
            control: [[0; 4]; BATCH],
        }
    }

    /// Fills the batch without blocking; `WouldBlock` when nothing is waiting.
    pub fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        let count = self.bufs.len();
        // SAFETY (both): plain old data; all-zero is a valid value.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for i in 0..count {
            iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.bufs[i].len(),
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.control[i].as_mut_ptr().cast();
            h.msg_controllen = size_of::<Control>();
        }
        // SAFETY: every header points at a live iovec, buffer, address and
        // control buffer of the stated sizes, all borrowed for the call.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                hdrs.as_mut_ptr(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        for (i, h) in hdrs.iter().take(n).enumerate() {
            self.lens[i] = h.msg_len as usize;
            self.truncated[i] = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.segments[i] = gro_segment(&h.msg_hdr).unwrap_or(self.lens[i]);
        }
        Ok(n)
    }

    /// The datagrams of the i-th buffer received (one, or with GRO several)
    /// and their sender; None when it did not fit (truncated).
    pub fn get(&self, i: usize) -> Option<(impl Iterator<Item = &[u8]>, SocketAddr)> {
        if self.truncated[i] {
            return None;
        }
        let buf = &self.bufs[i][..self.lens[i]];
        // An empty datagram is still one datagram.
        let datagrams = buf
            .chunks(self.segments[i].max(1))
            .chain(buf.is_empty().then_some(buf));
        Some((datagrams, from_sockaddr(&self.addrs[i])))
    }
}

/// The segment size of a coalesced read, from its UDP_GRO control message.
fn gro_segment(msg: &libc::msghdr) -> Option<usize> {
    // SAFETY: the kernel filled msg_control up to msg_controllen; the CMSG
    // macros stay inside it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                return usize::try_from(v).ok().filter(|&v| v > 0);
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

/// What a send did: datagrams that could not be sent, and whether the
/// kernel refused segmentation (EIO: the route's device cannot checksum).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub failed: usize,
    pub gso_refused: bool,
}

/// Sends datagrams (bytes and destination) in order with as few sendmmsg
/// calls as the kernel allows, segmented (`gso`) where they can be.
pub fn send_all<'a>(
    sock: &UdpSocket,
    datagrams: impl Iterator<Item = (&'a [u8], SocketAddr)>,
    gso: bool,
) -> Sent {
    // SAFETY (all four): plain old data; all-zero is a valid value.
    let mut addrs: [libc::sockaddr_in; BATCH] = unsafe { zeroed() };
    let mut iovs: [libc::iovec; SEND_IOVS] = unsafe { zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    let mut control: [Control; BATCH] = [[0; 4]; BATCH];
    let mut bytes: [&[u8]; SEND_IOVS] = [&[]; SEND_IOVS];
    // Each message's first iovec and datagram count.
    let mut spans = [(0usize, 0usize); BATCH];
    let mut sent = Sent::default();
    let mut datagrams = datagrams.peekable();
    while datagrams.peek().is_some() {
        let (mut msgs, mut used) = (0, 0);
        while msgs < BATCH && used < SEND_IOVS {
            let Some((first, addr)) = datagrams.next() else {
                break;
            };
            let Some(sa) = to_sockaddr(&addr) else {
                sent.failed += 1; // the underlay is IPv4
                continue;
            };
            let (start, size) = (used, first.len());
            let mut total = size;
            bytes[used] = first;
            used += 1;
            // A shorter datagram may end a segmented message, never sit in it.
            while gso
                && size > 0
                && used < SEND_IOVS
                && used - start < GSO_MAX_SEGMENTS
                && total % size == 0
            {
                match datagrams.peek() {
                    Some(&(b, to))
                        if to == addr && b.len() <= size && total + b.len() <= GSO_MAX_BYTES =>
                    {
                        bytes[used] = b;
                        used += 1;
                        total += b.len();
                        datagrams.next();
                    }
                    _ => break,
                }
            }
            addrs[msgs] = sa;
            spans[msgs] = (start, used - start);
            if used - start > 1 {
                set_segment(&mut control[msgs], size as u16);
            }
            msgs += 1;
        }
        for (i, b) in bytes[..used].iter().enumerate() {
            iovs[i] = libc::iovec {
                iov_base: b.as_ptr() as *mut libc::c_void,
                iov_len: b.len(),
            };
        }
        for m in 0..msgs {
            let (start, count) = spans[m];
            // SAFETY: plain old data; all-zero is a valid value.
            hdrs[m] = unsafe { zeroed() };
            let h = &mut hdrs[m].msg_hdr;
            h.msg_name = (&mut addrs[m] as *mut libc::sockaddr_in).cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = &mut iovs[start];
            h.msg_iovlen = count;
            if count > 1 {
                h.msg_control = control[m].as_mut_ptr().cast();
                // SAFETY: CMSG_SPACE only computes a size.
                h.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<u16>() as u32) } as usize;
            }
        }
        let mut at = 0;
        while at < msgs {
            // SAFETY: headers point at live addresses, iovecs over borrowed
            // bytes and control messages.
            let n = unsafe {
                libc::sendmmsg(
                    sock.as_raw_fd(),
                    hdrs[at..].as_mut_ptr(),
                    (msgs - at) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                at += n as usize;
                continue;
            }
            // The message at `at` failed: a segmented one goes again a
            // datagram at a time (the kernel may refuse segmentation for this
            // route: EIO without checksum offload, EINVAL past its MTU); a
            // plain one is counted and skipped.
            let err = io::Error::last_os_error();
            let (start, count) = spans[at];
            if count > 1 {
                sent.gso_refused |= err.raw_os_error() == Some(libc::EIO);
                let to = from_sockaddr(&addrs[at]);
                sent.failed += bytes[start..start + count]
                    .iter()
                    .filter(|b| sock.send_to(b, to).is_err())
                    .count();
            } else {
                sent.failed += 1;
            }
            at += 1;
        }
    }
    sent
}

/// Writes a UDP_SEGMENT control message of `size` into `buf`.
fn set_segment(buf: &mut Control, size: u16) {
    // SAFETY: buf is CMSG_SPACE(2) bytes or more, u64-aligned; the CMSG
    // macros address inside it through a msghdr that points at it.
    unsafe {
        let mut msg: libc::msghdr = zeroed();
        msg.msg_control = buf.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(size_of::<u16>() as u32) as usize;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_UDP;
        (*c).cmsg_type = libc::UDP_SEGMENT;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut u16, size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn socket(gro: bool) -> UdpSocket {
        super::super::udp::bind("127.0.0.1:0".parse().unwrap(), 0, gro).unwrap()
    }

    /// Every datagram `rx` holds, cut at the sizes the batch reports, once
    /// `want` have arrived (loopback delivery is not instant on a busy host).
    fn drain(rx: &UdpSocket, want: usize) -> Vec<(Vec<u8>, SocketAddr)> {
        let mut batch = RecvBatch::new(rx, 2048);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.len() < want && Instant::now() < deadline {
            match batch.recv(rx) {
                Ok(n) => {
                    for i in 0..n {
                        let (datagrams, from) = batch.get(i).unwrap();
                        got.extend(datagrams.map(|d| (d.to_vec(), from)));
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        got
    }

    #[test]
    fn a_batch_goes_out_in_order_to_each_destination_and_comes_back_whole() {
        // (case, segmentation on the sender, coalescing on the receivers)
        for (name, gso, gro) in [
            ("plain", false, false),
            ("GSO", true, false),
            ("GSO and GRO", true, true),
        ] {
            let tx = socket(false);
            let (rx1, rx2) = (socket(gro), socket(gro));
            let (a1, a2) = (rx1.local_addr().unwrap(), rx2.local_addr().unwrap());
            // Runs of equal sizes to one address with a short one at the end,
            // odd sizes, alternating destinations: every grouping case.
            let sizes = |i: usize| match i {
                0..=9 => 1200,
                10 => 333,
                11..=20 => 700 + (i % 2) * 10,
                _ => 100 + i,
            };
            let payloads: Vec<Vec<u8>> = (0..70).map(|i| vec![i as u8; sizes(i)]).collect();
            let dest = |i: usize| {
                if i < 30 || i.is_multiple_of(2) {
                    a1
                } else {
                    a2
                }
            };
            let datagrams = payloads
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_slice(), dest(i)));
            assert_eq!(send_all(&tx, datagrams, gso), Sent::default(), "{name}");
            for (rx, addr) in [(&rx1, a1), (&rx2, a2)] {
                let want: Vec<Vec<u8>> = payloads
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| dest(*i) == addr)
                    .map(|(_, p)| p.clone())
                    .collect();
                let got = drain(rx, want.len());
                assert!(got
                    .iter()
                    .all(|(_, from)| *from == tx.local_addr().unwrap()));
                let got: Vec<Vec<u8>> = got.into_iter().map(|(b, _)| b).collect();
                assert_eq!(got, want, "{name}: every datagram, in order");
            }
        }
    }

    #[test]
    fn a_datagram_larger_than_the_buffer_is_reported_truncated() {
        let (tx, rx) = (socket(false), socket(false));
        tx.send_to(&[7u8; 3000], rx.local_addr().unwrap()).unwrap();
        let mut batch = RecvBatch::new(&rx, 1000);
        let deadline = Instant::now() + Duration::from_secs(10);
        let n = loop {
            match batch.recv(&rx) {
                Ok(n) => break n,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("nothing arrived: {e}"),
            }
        };
        assert_eq!(n, 1);
        assert!(batch.get(0).is_none());
    }
}
