//! sd_notify(3) for pim-daemon under systemd (`Type=notify`): one datagram to
//! the AF_UNIX socket systemd names in $NOTIFY_SOCKET. Node has no AF_UNIX
//! datagram sockets, so the addon sends it; TypeScript decides when.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

use napi::bindgen_prelude::*;

/// `socket` is a path, or an abstract name written with a leading '@'.
fn send(socket: &str, state: &str) -> io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    match socket.strip_prefix('@') {
        Some(name) => sock.send_to_addr(state.as_bytes(), &SocketAddr::from_abstract_name(name)?),
        None => sock.send_to(state.as_bytes(), socket),
    }
    .map(|_| ())
}

/// Sends `state` (e.g. "READY=1") to systemd's notification socket.
// napi registers free functions only outside `cargo test` builds.
#[cfg_attr(test, allow(dead_code))]
#[napi]
pub fn sd_notify(socket: String, state: String) -> Result<()> {
    send(&socket, &state).map_err(|e| {
        Error::new(
            Status::GenericFailure,
            format!("cannot notify systemd on {socket}: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_one_datagram_to_a_socket_path() {
        let dir = std::env::temp_dir().join(format!("pim-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let receiver = UnixDatagram::bind(&path).unwrap();
        send(path.to_str().unwrap(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sends_to_an_abstract_name_written_with_at() {
        let name = format!("pim-notify-test-{}", std::process::id());
        let receiver =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        send(&format!("@{name}"), "READY=1\nSTATUS=up").unwrap();
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=up");
    }

    #[test]
    fn a_missing_socket_is_an_error() {
        assert!(send("/nonexistent/pim/notify.sock", "READY=1").is_err());
    }
}
