//! The control plane's decisions, compiled into plain data the engine
//! enforces: which peers exist, where to reach them, whom to trust. The
//! TypeScript side builds it; the engine never reads config or decides policy.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};

use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::proto::endpoint::Endpoint;

pub type PublicKey = [u8; 32];
pub type NodeId = [u8; 16];

/// node_id = the first 16 bytes of SHA-256(static public key).
pub fn node_id(public_key: &PublicKey) -> NodeId {
    let digest = Sha256::digest(public_key);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSpec {
    pub public_key: PublicKey,
    /// The address we expect the peer to use until its handshake tells us.
    pub mesh_ip: Ipv4Addr,
    pub endpoint: Option<SocketAddr>,
    /// Not a neighbour: reached through this neighbour (the route's next hop).
    pub via: Option<PublicKey>,
    /// Keep a session up (handshake at start, redial when down).
    pub persistent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMode {
    Tofu,
    AllowList,
    AllowAll,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    pub mode: TrustMode,
    /// node_ids allowed to pair in allow_list mode.
    pub allowed: HashSet<NodeId>,
    /// TOFU pins: the node_id first seen at each underlay address.
    pub pins: HashMap<SocketAddr, NodeId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Untrusted,
}

impl TrustPolicy {
    /// Decides a handshake from `node` arriving from `src`. TOFU pins are by
    /// underlay address; a handshake through a relay has none to check.
    pub fn decide(&self, node: &NodeId, src: &Endpoint) -> Verdict {
        let ok = match (self.mode, src) {
            (TrustMode::AllowAll, _) => true,
            (TrustMode::AllowList, _) => self.allowed.contains(node),
            (TrustMode::Tofu, Endpoint::Udp(addr)) => {
                self.pins.get(addr).is_none_or(|pinned| pinned == node)
            }
            (TrustMode::Tofu, Endpoint::Relay(_)) => true,
        };
        if ok {
            Verdict::Accept
        } else {
            Verdict::Untrusted
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub version: u32,
    pub mesh_ip: Ipv4Addr,
    pub mesh_prefix: Ipv4Addr,
    pub mesh_prefix_len: u8,
    pub peers: Vec<PeerSpec>,
    pub trust: TrustPolicy,
    pub routing: Routing,
    /// Where to pass relay envelopes for other nodes: destination → next hop.
    pub relays: HashMap<NodeId, PublicKey>,
}

/// Where traffic for addresses outside the mesh prefix goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// The selected gateway: outbound packets for non-mesh addresses are sent
    /// to it, and it may answer from any non-mesh address. None: such packets
    /// are dropped (the kill-switch, when routing via the mesh is on).
    pub internet_via: Option<PublicKey>,
    /// This node is a gateway: a peer's packets for non-mesh addresses go to
    /// the OS, which forwards and masquerades them.
    pub gateway: bool,
}

impl Snapshot {
    /// Refuses snapshots the engine could not enforce unambiguously.
    pub fn validate(&self, own_public: &PublicKey) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::InvalidSnapshot(m));
        if !(8..=30).contains(&self.mesh_prefix_len) {
            return bad(format!(
                "mesh prefix length {} is outside 8..30",
                self.mesh_prefix_len
            ));
        }
        if !self.in_prefix(self.mesh_ip) {
            return bad(format!(
                "own mesh IP {} is outside the mesh prefix",
                self.mesh_ip
            ));
        }
        let mut keys = HashSet::new();
        let mut ips = HashSet::from([self.mesh_ip]);
        for p in &self.peers {
            if &p.public_key == own_public {
                return bad("a peer has this node's own public key".into());
            }
            if !keys.insert(p.public_key) {
                return bad("two peers have the same public key".into());
            }
            if !self.in_prefix(p.mesh_ip) || !ips.insert(p.mesh_ip) {
                return bad(format!(
                    "peer mesh IP {} is outside the prefix or not unique",
                    p.mesh_ip
                ));
            }
        }
        Ok(())
    }

    /// Whether `ip` is anywhere in the mesh prefix, network and broadcast included.
    pub fn covers(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - u32::from(self.mesh_prefix_len));
        (u32::from(ip) & mask) == u32::from(self.mesh_prefix)
    }

    /// Whether `ip` is a host address of the mesh prefix.
    pub fn in_prefix(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - u32::from(self.mesh_prefix_len));
        let host = u32::from(ip) & !mask;
        (u32::from(ip) & mask) == u32::from(self.mesh_prefix) && host != 0 && host != !mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: TrustMode) -> TrustPolicy {
        TrustPolicy {
            mode,
            allowed: HashSet::from([[1u8; 16]]),
            pins: HashMap::from([("198.18.0.2:9100".parse().unwrap(), [2u8; 16])]),
        }
    }

    #[test]
    fn trust_decisions_by_mode() {
        let pinned_addr: SocketAddr = "198.18.0.2:9100".parse().unwrap();
        let other_addr: SocketAddr = "198.18.0.3:9100".parse().unwrap();
        use TrustMode::*;
        use Verdict::*;
        let cases = [
            (
                "allow_all trusts anyone",
                AllowAll,
                [9u8; 16],
                pinned_addr,
                Accept,
            ),
            (
                "allow_list accepts a listed id",
                AllowList,
                [1u8; 16],
                other_addr,
                Accept,
            ),
            (
                "allow_list refuses an unlisted id",
                AllowList,
                [2u8; 16],
                pinned_addr,
                Untrusted,
            ),
            (
                "tofu accepts a new address",
                Tofu,
                [9u8; 16],
                other_addr,
                Accept,
            ),
            (
                "tofu accepts the pinned id",
                Tofu,
                [2u8; 16],
                pinned_addr,
                Accept,
            ),
            (
                "tofu refuses a changed id at a pinned address",
                Tofu,
                [9u8; 16],
                pinned_addr,
                Untrusted,
            ),
        ];
        for (name, mode, id, src, want) in cases {
            assert_eq!(
                policy(mode).decide(&id, &Endpoint::Udp(src)),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn node_id_is_truncated_sha256() {
        // SHA-256 of 32 zero bytes starts 66687aadf862bd776c8fc18b8e9f8e20.
        let id = node_id(&[0u8; 32]);
        assert_eq!(id[..4], [0x66, 0x68, 0x7a, 0xad]);
    }

    #[test]
    fn prefix_membership_excludes_network_and_broadcast() {
        let s = Snapshot {
            version: 1,
            mesh_ip: Ipv4Addr::new(10, 77, 0, 1),
            mesh_prefix: Ipv4Addr::new(10, 77, 0, 0),
            mesh_prefix_len: 16,
            peers: vec![],
            trust: policy(TrustMode::Tofu),
            routing: Routing::default(),
            relays: HashMap::new(),
        };
        let cases = [
            ([10, 77, 0, 0], false),
            ([10, 77, 255, 255], false),
            ([10, 77, 3, 9], true),
            ([10, 78, 0, 1], false),
        ];
        for (ip, want) in cases {
            assert_eq!(s.in_prefix(Ipv4Addr::from(ip)), want, "{ip:?}");
        }
        assert!(s.validate(&[0u8; 32]).is_ok());
    }
}
