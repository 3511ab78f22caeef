//! The one UDP socket the node speaks on: non-blocking, with kernel buffers
//! large enough that bursts are not dropped before the inbound thread reads,
//! and with UDP GRO on where the kernel has it (Linux 5.0+): datagrams of one
//! sender that arrive together are read as one buffer (batch.rs splits it).

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

use crate::error::EngineError;

const SOCKET_BUFFER_BYTES: libc::c_int = 4 << 20;

/// Binds the socket; with `offload`, asks for UDP GRO (best effort: `gro`
/// tells whether it is on).
pub fn bind(addr: SocketAddr, fwmark: u32, offload: bool) -> Result<UdpSocket, EngineError> {
    let sock = UdpSocket::bind(addr)
        .map_err(|e| EngineError::UdpBind(format!("cannot bind UDP {addr}: {e}")))?;
    sock.set_nonblocking(true)
        .map_err(|e| EngineError::UdpBind(format!("cannot make UDP {addr} non-blocking: {e}")))?;
    // The FORCE variants pass net.core.*mem_max (they need CAP_NET_ADMIN,
    // which the daemon has); without it the capped plain option still helps.
    for (forced, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if !set_buffer(&sock, forced) {
            set_buffer(&sock, plain);
        }
    }
    if fwmark != 0 {
        // SAFETY: passes a pointer to a live u32 of the stated size.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MARK,
                (&fwmark as *const u32).cast(),
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            return Err(EngineError::UdpBind(format!(
                "cannot mark UDP {addr} with fwmark {fwmark:#x}: {e}"
            )));
        }
    }
    if offload {
        set_int(&sock, libc::SOL_UDP, libc::UDP_GRO, 1);
    }
    Ok(sock)
}

/// Whether the socket reads coalesced datagrams (UDP_GRO is on).
pub fn gro(sock: &UdpSocket) -> bool {
    get_int(sock, libc::SOL_UDP, libc::UDP_GRO) == Some(1)
}

/// Whether the kernel can segment sends (UDP_SEGMENT, Linux 4.18+): the
/// option reads back on kernels that have it.
pub fn gso_supported(sock: &UdpSocket) -> bool {
    get_int(sock, libc::SOL_UDP, libc::UDP_SEGMENT).is_some()
}

fn set_int(sock: &UdpSocket, level: libc::c_int, opt: libc::c_int, value: libc::c_int) -> bool {
    // SAFETY: passes a pointer to a live c_int of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            opt,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

fn get_int(sock: &UdpSocket, level: libc::c_int, opt: libc::c_int) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: passes a pointer to a live c_int and its length.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            opt,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

fn set_buffer(sock: &UdpSocket, opt: libc::c_int) -> bool {
    set_int(sock, libc::SOL_SOCKET, opt, SOCKET_BUFFER_BYTES)
}
