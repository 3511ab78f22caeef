//! The Linux TUN device (via the `tun` crate): layer 3, no packet-info
//! header, non-blocking, with the node's mesh address and the mesh prefix
//! routed to it. Closing the device removes the interface.
//!
//! Offloads: opened with IFF_VNET_HDR and told with TUNSETOFFLOAD that pim
//! finishes checksums and cuts TCP/IPv4 super-segments itself (TUN_F_CSUM |
//! TUN_F_TSO4), the kernel hands over up to 64 KB of one TCP flow per read
//! and takes coalesced segments in one write. Where the kernel refuses, the
//! device is made again without them and works a packet at a time.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};

use super::{read_packet, write_packet, TunIo};
use crate::error::EngineError;
use crate::offload::VnetHdr;

/// _IOW('T', 208, unsigned int) from include/uapi/linux/if_tun.h (libc lacks it).
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;

pub struct LinuxTun {
    dev: tun::Device,
    pub name: String,
    offload: bool,
}

fn open(
    name: &str,
    address: Ipv4Addr,
    netmask: Ipv4Addr,
    mtu: u16,
    vnet: bool,
) -> Result<tun::Device, String> {
    let mut cfg = tun::Configuration::default();
    cfg.tun_name(name)
        .address(address)
        .netmask(netmask)
        .mtu(mtu)
        .up();
    cfg.platform_config(|p| {
        p.vnet_hdr(vnet);
    });
    let dev = tun::create(&cfg).map_err(|e| e.to_string())?;
    if vnet {
        // SAFETY: an ioctl with an integer argument on the device's own fd.
        let rc = unsafe { libc::ioctl(dev.as_raw_fd(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) };
        if rc != 0 {
            return Err(format!("TUNSETOFFLOAD: {}", io::Error::last_os_error()));
        }
    }
    Ok(dev)
}

impl LinuxTun {
    /// With `offload`, tries the device with offloads first (see the top).
    pub fn create(
        name: &str,
        address: Ipv4Addr,
        prefix_len: u8,
        mtu: u16,
        offload: bool,
    ) -> Result<Self, EngineError> {
        let netmask = Ipv4Addr::from(u32::MAX << (32 - u32::from(prefix_len)));
        // A failed attempt closes its device, which removes the interface
        // again before the plain one takes the name.
        let with = offload
            .then(|| open(name, address, netmask, mtu, true).ok())
            .flatten();
        let offload = with.is_some();
        let dev = match with {
            Some(dev) => dev,
            None => open(name, address, netmask, mtu, false).map_err(|e| {
                EngineError::TunUnavailable(format!(
                    "cannot create TUN device {name}: {e} (needs root or CAP_NET_ADMIN and /dev/net/tun)"
                ))
            })?,
        };
        dev.set_nonblock().map_err(|e| {
            EngineError::TunUnavailable(format!("cannot make TUN device {name} non-blocking: {e}"))
        })?;
        // The mesh is IPv4; without this the kernel sends router solicitations
        // and other IPv6 chatter into the tunnel. Best effort: IPv6 may be off.
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1");
        Ok(LinuxTun {
            dev,
            name: name.to_string(),
            offload,
        })
    }
}

impl TunIo for LinuxTun {
    fn recv(&self, buf: &mut [u8]) -> io::Result<(VnetHdr, usize)> {
        read_packet(self.dev.as_raw_fd(), self.offload, buf)
    }

    fn send(&self, hdr: &VnetHdr, packet: &[u8]) -> io::Result<usize> {
        write_packet(self.dev.as_raw_fd(), self.offload, hdr, packet)
    }

    fn offload(&self) -> bool {
        self.offload
    }

    fn raw_fd(&self) -> RawFd {
        self.dev.as_raw_fd()
    }
}
