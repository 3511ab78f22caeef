//! Every peer the engine knows, findable by public key (handshakes), by mesh
//! IP (outbound routing) and by session index (inbound transport), and the
//! trust policy that admits them. Policy and peer set live under one lock, so
//! a peer admitted by a handshake can never slip in beside a snapshot that
//! revokes it.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwapOption, Guard};

use std::time::Instant;

use crate::proto::endpoint::Endpoint;
use crate::proto::tunnel::Tunnel;
use crate::ratelimit::TokenBucket;
use crate::snapshot::{node_id, NodeId, PublicKey};
use crate::trust::{TrustPolicy, Verdict};

use super::half_open::HalfOpen;
use super::routes::Routes;
use super::send_state::{Sending, TunnelGuard};

/// Peers that dialled in without being configured are capped, so a stream
/// of fresh keys cannot grow memory without bound.
pub const MAX_DYNAMIC_PEERS: usize = 1024;
/// A peer that dialled in and has been down this long, with nothing in
/// flight, is collected (docs/PROTOCOL.md §4.11); it dials in again anew.
pub const DYNAMIC_IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);
/// A peer's advertisements reaching JavaScript: they are seconds apart when
/// honest; more is dropped and counted.
const ADVERTS_PER_SEC: u32 = 2;
const ADVERT_BURST: u32 = 8;

pub struct Peer {
    pub public_key: PublicKey,
    pub node_id: NodeId,
    /// Listed in the snapshot (static, paired, relayed); otherwise it dialled
    /// in. A peer that dialled in becomes configured when a snapshot lists it.
    pub configured: AtomicBool,
    /// Taken out of the registry (forgotten, unlisted or revoked). A thread
    /// that still holds it may finish what it was doing, but the registry
    /// gives it no new index or route.
    removed: AtomicBool,
    tunnel: Mutex<Tunnel>,
    /// The tunnel's current session and endpoint, for sealing without the
    /// lock (send_state.rs); published when the lock is released.
    pub(super) send: ArcSwapOption<Sending>,
    pub rx_bytes: AtomicU64,
    pub tx_bytes: AtomicU64,
    /// Bytes this peer sent through us to the internet (we are its gateway).
    pub gateway_bytes: AtomicU64,
    /// Advertisements this peer may send up to the control plane.
    pub adverts: TokenBucket,
}

impl Peer {
    pub fn new(tunnel: Tunnel, configured: bool) -> Arc<Self> {
        Arc::new(Peer {
            public_key: tunnel.remote_public,
            node_id: node_id(&tunnel.remote_public),
            configured: AtomicBool::new(configured),
            removed: AtomicBool::new(false),
            tunnel: Mutex::new(tunnel),
            send: ArcSwapOption::empty(),
            rx_bytes: AtomicU64::new(0),
            tx_bytes: AtomicU64::new(0),
            gateway_bytes: AtomicU64::new(0),
            adverts: TokenBucket::new(ADVERTS_PER_SEC, ADVERT_BURST, Instant::now()),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.configured.load(Ordering::Relaxed)
    }

    pub fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    /// A panic elsewhere never makes a peer unusable: the state is plain data.
    pub fn lock(&self) -> TunnelGuard<'_> {
        TunnelGuard {
            peer: self,
            tunnel: self.tunnel.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// The session and endpoint to seal with, as of the last unlock.
    pub fn sending(&self) -> Guard<Option<Arc<Sending>>> {
        self.send.load()
    }
}

pub struct Registry {
    by_key: HashMap<PublicKey, Arc<Peer>>,
    by_ip: HashMap<Ipv4Addr, Arc<Peer>>,
    by_index: HashMap<u32, Arc<Peer>>,
    trust: TrustPolicy,
    /// Bumped by every change to peers or routes, so a snapshot built from a
    /// read of the registry can tell whether it is still current.
    generation: u64,
}

impl Registry {
    pub fn new(trust: TrustPolicy) -> Self {
        Registry {
            by_key: HashMap::new(),
            by_ip: HashMap::new(),
            by_index: HashMap::new(),
            trust,
            generation: 0,
        }
    }

    pub fn by_key(&self, key: &PublicKey) -> Option<Arc<Peer>> {
        self.by_key.get(key).cloned()
    }

    pub fn by_ip(&self, ip: &Ipv4Addr) -> Option<Arc<Peer>> {
        self.by_ip.get(ip).cloned()
    }

    pub fn by_index(&self, index: u32) -> Option<Arc<Peer>> {
        self.by_index.get(&index).cloned()
    }

    /// A copy of the lookups for the lock-free readers (routes.rs).
    pub fn lookups(&self) -> Routes {
        Routes {
            by_key: self.by_key.clone(),
            by_ip: self.by_ip.clone(),
            by_index: self.by_index.clone(),
        }
    }

    pub fn peers(&self) -> Vec<Arc<Peer>> {
        self.by_key.values().cloned().collect()
    }

    /// The mesh IP each peer is routed at.
    pub fn routes(&self) -> impl Iterator<Item = (&Ipv4Addr, &Arc<Peer>)> {
        self.by_ip.iter()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn trust(&self) -> &TrustPolicy {
        &self.trust
    }

    /// The trust verdict on `key` reached at `src`.
    pub fn decide(&self, key: &PublicKey, src: Option<&Endpoint>) -> Verdict {
        self.trust.decide(&node_id(key), src)
    }

    pub fn dynamic_count(&self) -> usize {
        self.by_key.values().filter(|p| !p.is_configured()).count()
    }

    /// Whether `ip` is free for the peer with `key` (unused, or already its own).
    pub fn ip_free_for(&self, ip: &Ipv4Addr, key: &PublicKey) -> bool {
        self.by_ip.get(ip).is_none_or(|p| &p.public_key == key)
    }

    pub fn insert(&mut self, peer: Arc<Peer>, mesh_ip: Ipv4Addr) {
        self.generation += 1;
        self.by_ip.insert(mesh_ip, peer.clone());
        self.by_key.insert(peer.public_key, peer);
    }

    /// Moves the peer's mesh-IP route to `ip` (a handshake told us its
    /// address); false, changing nothing, if another peer holds `ip` or the
    /// peer is gone.
    pub fn claim_ip(&mut self, peer: &Arc<Peer>, ip: Ipv4Addr) -> bool {
        if peer.is_removed() || !self.ip_free_for(&ip, &peer.public_key) {
            return false;
        }
        self.generation += 1;
        self.by_ip.retain(|_, p| !Arc::ptr_eq(p, peer));
        self.by_ip.insert(ip, peer.clone());
        true
    }

    /// Removes the peer with every route and session index pointing at it.
    pub fn remove(&mut self, key: &PublicKey) -> Option<Arc<Peer>> {
        let peer = self.by_key.remove(key)?;
        self.generation += 1;
        peer.removed.store(true, Ordering::Release);
        self.by_ip.retain(|_, p| !Arc::ptr_eq(p, &peer));
        self.by_index.retain(|_, p| !Arc::ptr_eq(p, &peer));
        Some(peer)
    }

    /// Swaps in a new trust policy (with the peer changes that go with it).
    pub fn set_trust(&mut self, trust: TrustPolicy) {
        self.generation += 1;
        self.trust = trust;
    }

    /// A fresh random session index registered to `peer`, unique among the
    /// node's sessions and half-open handshakes; None if the peer has been
    /// removed (it must not get sessions any more).
    pub fn allocate_index(&mut self, peer: &Arc<Peer>, half_open: &HalfOpen) -> Option<u32> {
        if peer.is_removed() {
            return None;
        }
        let index = self.free_index(half_open);
        self.by_index.insert(index, peer.clone());
        Some(index)
    }

    /// A random index neither a session nor a half-open handshake holds.
    pub fn free_index(&self, half_open: &HalfOpen) -> u32 {
        loop {
            let mut b = [0u8; 4];
            getrandom::fill(&mut b).expect("the OS random source works");
            let index = u32::from_le_bytes(b);
            if !self.by_index.contains_key(&index) && !half_open.contains(index) {
                return index;
            }
        }
    }

    /// Registers a confirmed half-open handshake's index to its peer.
    pub fn adopt_index(&mut self, index: u32, peer: &Arc<Peer>) {
        self.generation += 1;
        self.by_index.insert(index, peer.clone());
    }

    pub fn release(&mut self, indices: &[u32]) {
        for i in indices {
            self.by_index.remove(i);
        }
    }
}
