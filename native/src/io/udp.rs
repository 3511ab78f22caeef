//! The one UDP socket the node speaks on: non-blocking, with kernel buffers
//! large enough that bursts are not dropped before the inbound thread reads.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use crate::error::EngineError;

const SOCKET_BUFFER_BYTES: libc::c_int = 4 << 20;

pub fn bind(addr: SocketAddr) -> Result<UdpSocket, EngineError> {
    let sock = UdpSocket::bind(addr)
        .map_err(|e| EngineError::UdpBind(format!("cannot bind UDP {addr}: {e}")))?;
    sock.set_nonblocking(true)
        .map_err(|e| EngineError::UdpBind(format!("cannot make UDP {addr} non-blocking: {e}")))?;
    for opt in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // Best effort: the kernel caps this at net.core.*mem_max for non-root.
        // SAFETY: passes a pointer to a live c_int of the stated size.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&SOCKET_BUFFER_BYTES as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    }
    Ok(sock)
}
