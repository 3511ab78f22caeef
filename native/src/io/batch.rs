//! Many UDP datagrams per system call: recvmmsg(2) and sendmmsg(2) over
//! preallocated, bounded buffers (no allocation per packet). IPv4 only, like
//! the underlay socket.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

/// Datagrams per system call.
pub const BATCH: usize = 32;

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

/// Receive side: BATCH buffers filled by one recvmmsg.
pub struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    lens: [usize; BATCH],
    truncated: [bool; BATCH],
    addrs: [libc::sockaddr_in; BATCH],
}

impl RecvBatch {
    pub fn new(buf_len: usize) -> Self {
        RecvBatch {
            bufs: (0..BATCH).map(|_| vec![0u8; buf_len]).collect(),
            lens: [0; BATCH],
            truncated: [false; BATCH],
            // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
            addrs: [unsafe { zeroed() }; BATCH],
        }
    }

    /// Fills the batch without blocking; `WouldBlock` when nothing is waiting.
    pub fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        let mut iovs: Vec<libc::iovec> = self
            .bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: mmsghdr is plain old data; all-zero is a valid value.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for (i, h) in hdrs.iter_mut().enumerate() {
            h.msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_in).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut iovs[i];
            h.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points at a live iovec, buffer and address of
        // the stated sizes, all borrowed for the duration of the call.
        let n = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
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
        }
        Ok(n)
    }

    /// The i-th datagram received, with its sender; None when it did not fit (truncated).
    pub fn get(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
        (!self.truncated[i]).then(|| (&self.bufs[i][..self.lens[i]], from_sockaddr(&self.addrs[i])))
    }
}

/// Sends datagrams (bytes and destination) with as few sendmmsg calls as the
/// kernel allows, from stack arrays; returns how many could not be sent.
pub fn send_all<'a>(
    sock: &UdpSocket,
    datagrams: impl Iterator<Item = (&'a [u8], SocketAddr)>,
) -> usize {
    // SAFETY (all three): plain old data; all-zero is a valid value.
    let mut addrs: [libc::sockaddr_in; BATCH] = unsafe { zeroed() };
    let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    let mut failed = 0;
    let mut datagrams = datagrams.peekable();
    while datagrams.peek().is_some() {
        let mut n = 0;
        for (bytes, addr) in datagrams.by_ref().take(BATCH) {
            let Some(sa) = to_sockaddr(&addr) else {
                failed += 1; // the underlay is IPv4
                continue;
            };
            addrs[n] = sa;
            iovs[n] = libc::iovec {
                iov_base: bytes.as_ptr() as *mut libc::c_void,
                iov_len: bytes.len(),
            };
            n += 1;
        }
        for i in 0..n {
            hdrs[i] = unsafe { zeroed() };
            hdrs[i].msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_in).cast();
            hdrs[i].msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            hdrs[i].msg_hdr.msg_iov = &mut iovs[i];
            hdrs[i].msg_hdr.msg_iovlen = 1;
        }
        let mut start = 0;
        while start < n {
            // SAFETY: headers point at live addresses and iovecs over borrowed bytes.
            let sent = unsafe {
                libc::sendmmsg(
                    sock.as_raw_fd(),
                    hdrs[start..].as_mut_ptr(),
                    (n - start) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            // On an error the first datagram is the one that failed: skip it, go on.
            if sent <= 0 {
                failed += 1;
                start += 1;
            } else {
                start += sent as usize;
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        s
    }

    #[test]
    fn a_batch_goes_out_in_order_to_each_destination_and_comes_back_whole() {
        let (tx, rx1, rx2) = (socket(), socket(), socket());
        let (a1, a2) = (rx1.local_addr().unwrap(), rx2.local_addr().unwrap());
        let payloads: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        let datagrams = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_slice(), if i % 2 == 0 { a1 } else { a2 }));
        assert_eq!(send_all(&tx, datagrams), 0);
        std::thread::sleep(std::time::Duration::from_millis(50));
        for (rx, parity) in [(&rx1, 0usize), (&rx2, 1)] {
            let mut batch = RecvBatch::new(2048);
            let mut got = Vec::new();
            while let Ok(n) = batch.recv(rx) {
                for i in 0..n {
                    let (bytes, from) = batch.get(i).unwrap();
                    assert_eq!(from, tx.local_addr().unwrap());
                    got.push(bytes.to_vec());
                }
            }
            let want: Vec<Vec<u8>> = payloads
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == parity)
                .map(|(_, p)| p.clone())
                .collect();
            assert_eq!(got, want, "a partial last batch included, in order");
        }
    }

    #[test]
    fn a_datagram_larger_than_the_buffer_is_reported_truncated() {
        let (tx, rx) = (socket(), socket());
        tx.send_to(&[7u8; 3000], rx.local_addr().unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut batch = RecvBatch::new(1000);
        assert_eq!(batch.recv(&rx).unwrap(), 1);
        assert!(batch.get(0).is_none());
    }
}
