//! Segmentation offloads, as pure functions over bytes (no I/O):
//!
//! - the virtio-net header a TUN device opened with IFF_VNET_HDR puts in
//!   front of every packet (this file);
//! - the Internet checksum (`checksum`);
//! - splitting a TCP super-segment the kernel hands us into tunnel-MTU
//!   packets, and completing a checksum the kernel left partial (`split`);
//! - coalescing decrypted segments of one TCP flow into one super-segment
//!   for a single TUN write, GRO-style (`coalesce`).
//!
//! Only IPv4 TCP is segmented or coalesced: the mesh carries IPv4 only, and
//! the device is told to hand over no other kind of super-segment.

pub mod checksum;
pub mod coalesce;
pub mod split;

#[cfg(test)]
mod engine_tests;

/// sizeof(struct virtio_net_hdr): what IFF_VNET_HDR prepends by default.
pub const VNET_HDR_LEN: usize = 10;

/// The checksum from `csum_start` on is partial: the field at
/// `csum_start + csum_offset` holds the pseudo-header sum, the rest is ours
/// (or the kernel's) to finish.
pub const F_NEEDS_CSUM: u8 = 1;
pub const GSO_NONE: u8 = 0;
pub const GSO_TCPV4: u8 = 1;

/// The largest packet a TUN device hands over or takes with offloads on.
pub const MAX_SUPER_PACKET: usize = 65535;

/// struct virtio_net_hdr (include/uapi/linux/virtio_net.h). Fields are in
/// the host's byte order: a TUN device uses the legacy little-endian layout
/// on little-endian hosts and native order elsewhere, unless told otherwise
/// with TUNSETVNETLE/BE, which pim never does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    /// Length of the headers (IP + TCP) every segment repeats.
    pub hdr_len: u16,
    /// Payload bytes per segment (the MSS).
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHdr {
    /// A plain packet: no segmentation, checksums complete.
    pub const NONE: VnetHdr = VnetHdr {
        flags: 0,
        gso_type: GSO_NONE,
        hdr_len: 0,
        gso_size: 0,
        csum_start: 0,
        csum_offset: 0,
    };

    pub fn decode(b: &[u8; VNET_HDR_LEN]) -> VnetHdr {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    pub fn encode(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }

    pub fn needs_csum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_round_trips_in_host_order() {
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV4,
            hdr_len: 52,
            gso_size: 1368,
            csum_start: 20,
            csum_offset: 16,
        };
        let b = h.encode();
        assert_eq!(b[0], 1);
        assert_eq!(b[1], 1);
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 1368);
        assert_eq!(VnetHdr::decode(&b), h);
        assert_eq!(VnetHdr::decode(&[0; VNET_HDR_LEN]), VnetHdr::NONE);
    }
}
