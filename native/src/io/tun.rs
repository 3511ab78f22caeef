//! The Linux TUN device (via the `tun` crate): layer 3, no packet-info
//! header, non-blocking, with the node's mesh address and the mesh prefix
//! routed to it. Closing the device removes the interface.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};

use super::TunIo;
use crate::error::EngineError;

pub struct LinuxTun {
    dev: tun::Device,
    pub name: String,
}

impl LinuxTun {
    pub fn create(
        name: &str,
        address: Ipv4Addr,
        prefix_len: u8,
        mtu: u16,
    ) -> Result<Self, EngineError> {
        let netmask = Ipv4Addr::from(u32::MAX << (32 - u32::from(prefix_len)));
        let mut cfg = tun::Configuration::default();
        cfg.tun_name(name)
            .address(address)
            .netmask(netmask)
            .mtu(mtu)
            .up();
        let dev = tun::create(&cfg).map_err(|e| {
            EngineError::TunUnavailable(format!(
                "cannot create TUN device {name}: {e} (needs root or CAP_NET_ADMIN and /dev/net/tun)"
            ))
        })?;
        dev.set_nonblock().map_err(|e| {
            EngineError::TunUnavailable(format!("cannot make TUN device {name} non-blocking: {e}"))
        })?;
        // The mesh is IPv4; without this the kernel sends router solicitations
        // and other IPv6 chatter into the tunnel. Best effort: IPv6 may be off.
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1");
        Ok(LinuxTun {
            dev,
            name: name.to_string(),
        })
    }
}

impl TunIo for LinuxTun {
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.dev.recv(buf)
    }

    fn send(&self, packet: &[u8]) -> io::Result<usize> {
        self.dev.send(packet)
    }

    fn raw_fd(&self) -> RawFd {
        self.dev.as_raw_fd()
    }
}
