//! What the engine tells the control plane about each peer when asked.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Engine;
use crate::proto::endpoint::Endpoint;
use crate::snapshot::PublicKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    Active,
    Connecting,
    Failed,
}

#[derive(Debug, Clone)]
pub struct PeerReport {
    pub public_key: PublicKey,
    pub mesh_ip: Ipv4Addr,
    /// The neighbour's address, for a direct peer.
    pub endpoint: Option<SocketAddr>,
    /// The next hop, for a peer reached through relays.
    pub via: Option<PublicKey>,
    pub state: PeerState,
    pub configured: bool,
    pub last_handshake_ms: Option<u64>,
    pub last_received_ms: Option<u64>,
    pub rtt_ms: Option<f64>,
    /// A handshake attempt of ours is in flight.
    pub handshaking: bool,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Bytes the peer sent through this node to the internet.
    pub gateway_bytes: u64,
}

impl Engine {
    pub fn peers(&self) -> Vec<PeerReport> {
        let now = self.ctx.clock.now();
        let ms =
            |t: Option<Instant>| t.map(|t| now.saturating_duration_since(t).as_millis() as u64);
        // Lock order: the registry guard is gone before any tunnel is locked.
        let peers = self.ctx.registry().peers();
        let mut reports: Vec<PeerReport> = peers
            .into_iter()
            .map(|peer| {
                let t = peer.lock();
                PeerReport {
                    public_key: peer.public_key,
                    mesh_ip: t.mesh_ip,
                    endpoint: match t.endpoint {
                        Some(Endpoint::Udp(a)) => Some(a),
                        _ => None,
                    },
                    via: match t.endpoint {
                        Some(Endpoint::Relay(k)) => Some(k),
                        _ => None,
                    },
                    state: if t.is_connected() {
                        PeerState::Active
                    } else if t.has_failed() {
                        PeerState::Failed
                    } else {
                        PeerState::Connecting
                    },
                    configured: peer.is_configured(),
                    last_handshake_ms: ms(t.last_handshake),
                    last_received_ms: ms(t.liveness().last_received()),
                    rtt_ms: t.liveness().rtt().map(|d| d.as_secs_f64() * 1000.0),
                    handshaking: t.pending_index().is_some(),
                    rx_bytes: peer.rx_bytes.load(Ordering::Relaxed),
                    tx_bytes: peer.tx_bytes.load(Ordering::Relaxed),
                    gateway_bytes: peer.gateway_bytes.load(Ordering::Relaxed),
                }
            })
            .collect();
        reports.sort_by_key(|r| r.mesh_ip);
        reports
    }
}
