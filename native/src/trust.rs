//! Who may have a session with this node (docs/PROTOCOL.md §4.5). The
//! control plane decides the policy and compiles it into the snapshot; the
//! engine applies it to every handshake, in both directions, and again to
//! every existing peer whenever a new snapshot arrives.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::proto::endpoint::Endpoint;
use crate::snapshot::NodeId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMode {
    Tofu,
    AllowList,
    AllowAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    Untrusted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    pub mode: TrustMode,
    /// node_ids the user trusts explicitly (configured, paired, allow_list).
    explicit: HashSet<NodeId>,
    /// TOFU pins: the node_id first trusted at each underlay IP address.
    pins: HashMap<IpAddr, NodeId>,
    /// Every node_id some pin names: a known node may roam to a new address.
    pinned: HashSet<NodeId>,
}

impl TrustPolicy {
    pub fn new(mode: TrustMode, explicit: HashSet<NodeId>, pins: HashMap<IpAddr, NodeId>) -> Self {
        let pinned = pins.values().copied().collect();
        TrustPolicy {
            mode,
            explicit,
            pins,
            pinned,
        }
    }

    pub fn is_explicit(&self, node: &NodeId) -> bool {
        self.explicit.contains(node)
    }

    /// Decides a handshake from `node` (proven by Noise) arriving from `src`;
    /// `None` when there is no address to judge (a peer not heard from yet).
    /// A relayed source has no address either: it is decided by the key alone.
    pub fn decide(&self, node: &NodeId, src: Option<&Endpoint>) -> Verdict {
        let admit = match self.mode {
            TrustMode::AllowAll => true,
            TrustMode::AllowList => self.explicit.contains(node),
            TrustMode::Tofu => {
                self.explicit.contains(node)
                    || self.pinned.contains(node)
                    || match src {
                        // First use, unless the address is already someone else's.
                        Some(Endpoint::Udp(addr)) => !self.pins.contains_key(&addr.ip()),
                        Some(Endpoint::Relay(_)) | None => true,
                    }
            }
        };
        if admit {
            Verdict::Admit
        } else {
            Verdict::Untrusted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: NodeId = [1; 16];
    const PINNED: NodeId = [2; 16];
    const STRANGER: NodeId = [9; 16];

    fn policy(mode: TrustMode) -> TrustPolicy {
        TrustPolicy::new(
            mode,
            HashSet::from([LISTED]),
            HashMap::from([("198.18.0.2".parse().unwrap(), PINNED)]),
        )
    }

    fn udp(s: &str) -> Option<Endpoint> {
        Some(Endpoint::Udp(s.parse().unwrap()))
    }

    #[test]
    fn the_trust_decision_follows_the_mode_the_pins_and_the_source() {
        use TrustMode::*;
        use Verdict::*;
        let pinned_ip = udp("198.18.0.2:9100");
        let pinned_ip_new_port = udp("198.18.0.2:40000");
        let new_ip = udp("198.18.0.3:9100");
        let relayed = Some(Endpoint::Relay([7; 32]));
        let cases = [
            (
                "allow_all admits a stranger",
                AllowAll,
                STRANGER,
                &pinned_ip,
                Admit,
            ),
            (
                "allow_list admits an explicit node_id",
                AllowList,
                LISTED,
                &new_ip,
                Admit,
            ),
            (
                "allow_list refuses a pinned but not explicit node_id",
                AllowList,
                PINNED,
                &pinned_ip,
                Untrusted,
            ),
            (
                "allow_list refuses a relayed stranger",
                AllowList,
                STRANGER,
                &relayed,
                Untrusted,
            ),
            (
                "tofu admits a stranger at a new address (first use)",
                Tofu,
                STRANGER,
                &new_ip,
                Admit,
            ),
            (
                "tofu admits the pinned node at its address",
                Tofu,
                PINNED,
                &pinned_ip,
                Admit,
            ),
            (
                "tofu admits a known node that roamed to a new address",
                Tofu,
                PINNED,
                &new_ip,
                Admit,
            ),
            (
                "tofu admits an explicit node at another node's pinned address",
                Tofu,
                LISTED,
                &pinned_ip,
                Admit,
            ),
            (
                "tofu refuses a stranger at a pinned address",
                Tofu,
                STRANGER,
                &pinned_ip,
                Untrusted,
            ),
            (
                "tofu pins hold whatever the source port",
                Tofu,
                STRANGER,
                &pinned_ip_new_port,
                Untrusted,
            ),
            (
                "tofu decides a relayed handshake by the key alone",
                Tofu,
                STRANGER,
                &relayed,
                Admit,
            ),
            (
                "tofu admits a stranger not heard from yet",
                Tofu,
                STRANGER,
                &None,
                Admit,
            ),
        ];
        for (rule, mode, node, src, want) in cases {
            assert_eq!(policy(mode).decide(&node, src.as_ref()), want, "{rule}");
        }
    }
}
