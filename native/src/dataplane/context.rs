//! What every data-plane thread shares: keys, sockets, the peer registry
//! (with the trust policy), routing, counters and the event channel.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use arc_swap::{ArcSwap, Guard};

use crate::clock::Clock;
use crate::event::{Event, Events};
use crate::io::waker::Waker;
use crate::io::TunIo;
use crate::proto::handshake::StaticKeys;
use std::collections::HashMap;

use crate::snapshot::{node_id, NodeId, PublicKey, Routing, Snapshot};
use crate::stats::Stats;

use super::half_open::HalfOpen;
use super::handshake_queue::HandshakeQueue;
use super::registry::{Peer, Registry};
use super::routes::{RegistryWrite, Routes};

/// What the engine runs on: the packet device, the socket and the clock.
pub struct EngineIo {
    pub tun: Box<dyn TunIo>,
    pub udp: UdpSocket,
    pub clock: Arc<dyn Clock>,
}

/// The parts of the snapshot that change live besides the peers and trust.
pub struct Policy {
    pub routing: Routing,
    pub relays: HashMap<NodeId, PublicKey>,
}

pub struct Context {
    pub clock: Arc<dyn Clock>,
    pub keys: StaticKeys,
    pub node_id: NodeId,
    pub tun: Box<dyn TunIo>,
    pub udp: UdpSocket,
    pub waker: Waker,
    stopping: AtomicBool,
    pub stats: Stats,
    pub events: Events,
    registry: RwLock<Registry>,
    /// The registry's lookups for the forwarding threads, without its lock.
    routes: ArcSwap<Routes>,
    /// Answered initiations from strangers, awaiting key confirmation;
    /// locked after the registry, never before.
    half_open: Mutex<HalfOpen>,
    /// Handshake datagrams from the inbound thread to the handshake worker.
    pub handshakes: HandshakeQueue,
    policy: RwLock<Policy>,
    /// Fixed for the engine's life: the interface is built with them.
    pub mesh_ip: Ipv4Addr,
    prefix: Snapshot,
}

impl Context {
    pub fn new(
        keys: StaticKeys,
        io: EngineIo,
        waker: Waker,
        events: Events,
        snapshot: &Snapshot,
    ) -> Self {
        Context {
            clock: io.clock,
            node_id: node_id(&keys.public),
            keys,
            tun: io.tun,
            udp: io.udp,
            waker,
            stopping: AtomicBool::new(false),
            stats: Stats::default(),
            events,
            registry: RwLock::new(Registry::new(snapshot.trust.clone())),
            routes: ArcSwap::from_pointee(Routes::default()),
            half_open: Mutex::new(HalfOpen::default()),
            handshakes: HandshakeQueue::default(),
            policy: RwLock::new(Policy {
                routing: snapshot.routing.clone(),
                relays: snapshot.relays.clone(),
            }),
            mesh_ip: snapshot.mesh_ip,
            prefix: Snapshot {
                peers: Vec::new(),
                ..snapshot.clone()
            },
        }
    }

    pub fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes publish the routes again when the guard is released.
    pub fn registry_mut(&self) -> RegistryWrite<'_> {
        RegistryWrite {
            registry: self.registry.write().unwrap_or_else(|p| p.into_inner()),
            routes: &self.routes,
        }
    }

    /// The registry's lookups as of its last write, without a lock.
    pub fn routes(&self) -> Guard<Arc<Routes>> {
        self.routes.load()
    }

    pub fn half_open(&self) -> MutexGuard<'_, HalfOpen> {
        self.half_open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn policy(&self) -> RwLockReadGuard<'_, Policy> {
        self.policy.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_policy(&self, policy: Policy) {
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    pub fn in_mesh(&self, ip: Ipv4Addr) -> bool {
        self.prefix.covers(ip)
    }

    /// The neighbour a relay envelope for `dst` goes to next.
    pub fn next_hop(&self, dst: &NodeId) -> Option<PublicKey> {
        self.policy().relays.get(dst).copied()
    }

    /// The peer that carries traffic for addresses outside the mesh, if any.
    pub fn internet_peer(&self) -> Option<Arc<Peer>> {
        let via = self.policy().routing.internet_via?;
        self.routes().by_key(&via).cloned()
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.waker.wake();
        self.handshakes.wake();
    }

    pub fn emit(&self, event: Event) {
        self.events.emit(event, &self.stats);
    }

    /// Whether the snapshot's fixed part is the one this engine runs with.
    pub fn same_addressing(&self, snapshot: &Snapshot) -> bool {
        (
            snapshot.mesh_ip,
            snapshot.mesh_prefix,
            snapshot.mesh_prefix_len,
        ) == (
            self.mesh_ip,
            self.prefix.mesh_prefix,
            self.prefix.mesh_prefix_len,
        )
    }

    /// A peer may claim `ip` if it is a host address of the mesh prefix and
    /// not ours; whether another peer holds it is the registry's to say.
    pub fn mesh_ip_usable(&self, ip: Ipv4Addr) -> bool {
        ip != self.mesh_ip && self.prefix.in_prefix(ip)
    }

    pub fn send_datagram(&self, datagram: &[u8], to: SocketAddr) -> bool {
        match self.udp.send_to(datagram, to) {
            Ok(_) => true,
            Err(_) => {
                Stats::inc(&self.stats.udp_send_errors);
                false
            }
        }
    }
}
