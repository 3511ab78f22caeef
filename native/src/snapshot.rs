//! The control plane's decisions, compiled into plain data the engine
//! enforces: which peers exist, where to reach them, whom to trust, where
//! traffic for the internet goes. The TypeScript side builds it; the engine
//! never reads config or decides policy.

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};

use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::proto::endpoint::Endpoint;
use crate::proto::low_order::is_low_order;
use crate::trust::{TrustPolicy, Verdict};

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

impl PeerSpec {
    /// Where the peer's datagrams go: through its next hop, or to its address.
    pub fn path(&self) -> Option<Endpoint> {
        self.via
            .map(Endpoint::Relay)
            .or(self.endpoint.map(Endpoint::Udp))
    }
}

/// An IPv4 network: `network/len`. Host bits of `network` are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub len: u8,
}

impl Cidr {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
        u32::from(ip) & mask == u32::from(self.network) & mask
    }
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
    /// On a gateway: destinations mesh traffic is never forwarded to (the
    /// host's own addresses and local subnets).
    pub gateway_blocked: Vec<Cidr>,
    /// The operator opted in (`[gateway] allow_lan`): peers trusted
    /// explicitly may reach `gateway_blocked`; admitted ones never do.
    pub gateway_lan_explicit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Strictly increasing across applies: a stale or repeated one is refused.
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

/// The first 8 hex digits of a key, to name it in messages.
pub fn short(key: &PublicKey) -> String {
    key[..4].iter().map(|b| format!("{b:02x}")).collect()
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
        let named_keys = self
            .peers
            .iter()
            .flat_map(|p| [Some(p.public_key), p.via])
            .chain([self.routing.internet_via])
            .chain(self.relays.values().map(|k| Some(*k)))
            .flatten();
        for key in named_keys {
            if is_low_order(&key) {
                return bad(format!(
                    "public key {} is a small-order X25519 point, which no real node has",
                    short(&key)
                ));
            }
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
            // The engine would refuse this peer's handshakes: listing it is a
            // contradiction the control plane must resolve, not the engine.
            if self
                .trust
                .decide(&node_id(&p.public_key), p.path().as_ref())
                != Verdict::Admit
            {
                return bad(format!(
                    "peer {} is listed, but the snapshot's own trust policy refuses it",
                    short(&p.public_key)
                ));
            }
        }
        if let Some(gw) = &self.routing.internet_via {
            if !self.trust.is_explicit(&node_id(gw)) {
                return bad(format!(
                    "the gateway {} is not an explicitly trusted node (configured, paired or allow-listed)",
                    short(gw)
                ));
            }
        }
        Ok(())
    }

    /// Whether `ip` is anywhere in the mesh prefix, network and broadcast included.
    pub fn covers(&self, ip: Ipv4Addr) -> bool {
        Cidr {
            network: self.mesh_prefix,
            len: self.mesh_prefix_len,
        }
        .contains(ip)
    }

    /// Whether `ip` is a host address of the mesh prefix.
    pub fn in_prefix(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - u32::from(self.mesh_prefix_len));
        let host = u32::from(ip) & !mask;
        self.covers(ip) && host != 0 && host != !mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::handshake::x25519_public;
    use crate::trust::TrustMode;

    #[test]
    fn node_id_is_truncated_sha256() {
        // SHA-256 of 32 zero bytes starts 66687aadf862bd776c8fc18b8e9f8e20.
        let id = node_id(&[0u8; 32]);
        assert_eq!(id[..4], [0x66, 0x68, 0x7a, 0xad]);
    }

    fn key(seed: u8) -> PublicKey {
        x25519_public(&[seed; 32])
    }

    fn base() -> Snapshot {
        Snapshot {
            version: 1,
            mesh_ip: Ipv4Addr::new(10, 77, 0, 1),
            mesh_prefix: Ipv4Addr::new(10, 77, 0, 0),
            mesh_prefix_len: 16,
            peers: vec![PeerSpec {
                public_key: key(2),
                mesh_ip: Ipv4Addr::new(10, 77, 0, 2),
                endpoint: Some("198.18.0.2:9100".parse().unwrap()),
                via: None,
                persistent: true,
            }],
            trust: TrustPolicy::new(
                TrustMode::AllowList,
                HashSet::from([node_id(&key(2))]),
                HashMap::new(),
            ),
            routing: Routing::default(),
            relays: HashMap::new(),
        }
    }

    #[test]
    fn prefix_membership_excludes_network_and_broadcast() {
        let s = base();
        let cases = [
            ([10, 77, 0, 0], false),
            ([10, 77, 255, 255], false),
            ([10, 77, 3, 9], true),
            ([10, 78, 0, 1], false),
        ];
        for (ip, want) in cases {
            assert_eq!(s.in_prefix(Ipv4Addr::from(ip)), want, "{ip:?}");
        }
    }

    #[test]
    fn cidrs_match_their_network_whatever_the_host_bits() {
        let cidr = |s: &str, len| Cidr {
            network: s.parse().unwrap(),
            len,
        };
        let cases = [
            (cidr("192.168.1.0", 24), "192.168.1.77", true),
            (cidr("192.168.1.5", 24), "192.168.1.77", true),
            (cidr("192.168.1.0", 24), "192.168.2.1", false),
            (cidr("192.168.1.5", 32), "192.168.1.5", true),
            (cidr("192.168.1.5", 32), "192.168.1.6", false),
            (cidr("0.0.0.0", 0), "203.0.113.9", true),
        ];
        for (c, ip, want) in cases {
            assert_eq!(c.contains(ip.parse().unwrap()), want, "{c:?} {ip}");
        }
    }

    type Edit = fn(&mut Snapshot);

    #[test]
    fn snapshot_validation_refuses_what_the_engine_could_not_enforce() {
        let cases: [(&str, Edit, Option<&str>); 9] = [
            ("a consistent snapshot is accepted", |_| {}, None),
            (
                "a peer with an all-zero key",
                |s| s.peers[0].public_key = [0; 32],
                Some("small-order"),
            ),
            (
                "a relay through a low-order key",
                |s| {
                    s.relays.insert([1; 16], SMALL_ORDER_P);
                },
                Some("small-order"),
            ),
            (
                "a peer the policy refuses",
                |s| {
                    s.trust = TrustPolicy::new(TrustMode::AllowList, HashSet::new(), HashMap::new())
                },
                Some("trust policy refuses"),
            ),
            (
                "a gateway that is not explicitly trusted",
                |s| {
                    s.trust = TrustPolicy::new(TrustMode::AllowAll, HashSet::new(), HashMap::new());
                    s.routing.internet_via = Some(key(2));
                },
                Some("not an explicitly trusted node"),
            ),
            (
                "an explicit gateway",
                |s| s.routing.internet_via = Some(key(2)),
                None,
            ),
            (
                "a peer with our own key",
                |s| s.peers[0].public_key = key(1),
                Some("own public key"),
            ),
            (
                "a peer at our own mesh IP",
                |s| s.peers[0].mesh_ip = Ipv4Addr::new(10, 77, 0, 1),
                Some("not unique"),
            ),
            (
                "a prefix too short",
                |s| s.mesh_prefix_len = 7,
                Some("outside 8..30"),
            ),
        ];
        for (rule, edit, want) in cases {
            let mut s = base();
            edit(&mut s);
            match (s.validate(&key(1)), want) {
                (Ok(()), None) => {}
                (Err(e), Some(text)) => assert!(e.to_string().contains(text), "{rule}: {e}"),
                (got, _) => panic!("{rule}: {got:?}"),
            }
        }
    }

    /// p − 1, of order 2.
    const SMALL_ORDER_P: PublicKey = {
        let mut k = [0xff; 32];
        k[0] = 0xec;
        k[31] = 0x7f;
        k
    };
}
