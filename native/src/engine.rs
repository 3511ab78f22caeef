//! The engine's lifecycle: build the context, start the three data-plane
//! threads, swap in new snapshots, report peers and counters, and stop
//! (joining every thread) — the whole surface the napi layer exposes.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::clock::SystemClock;
use crate::dataplane::context::{Context, EngineIo, Policy};
use crate::dataplane::registry::Peer;
use crate::dataplane::tx::Tx;
use crate::dataplane::{actions, inbound, outbound, timer};
use crate::error::EngineError;
use crate::event::{EventSink, Events};
use crate::io::tun::LinuxTun;
use crate::io::waker::Waker;
use crate::io::{self, udp};
use crate::proto::control::{self, MAX_ADVERT_LEN};
use crate::proto::endpoint::Endpoint;
use crate::proto::handshake::StaticKeys;
use crate::proto::tunnel::Tunnel;
use crate::snapshot::{PublicKey, Snapshot};
use crate::stats::StatsSnapshot;

pub struct EngineConfig {
    pub private_key: [u8; 32],
    pub tun_name: String,
    pub mtu: u16,
    pub bind: SocketAddr,
    pub fwmark: u32,
}

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

pub struct Engine {
    ctx: Arc<Context>,
    threads: Vec<JoinHandle<()>>,
    /// Send buffers for control messages from the JavaScript thread.
    control_tx: Mutex<Tx>,
}

impl Engine {
    /// Binds the UDP socket, creates the TUN device and starts forwarding.
    pub fn start(
        config: EngineConfig,
        snapshot: Snapshot,
        sink: Box<dyn EventSink>,
    ) -> Result<Engine, EngineError> {
        let keys = StaticKeys::from_private(config.private_key);
        snapshot.validate(&keys.public)?;
        let offload = io::offload_wanted();
        let udp = udp::bind(config.bind, config.fwmark, offload)?;
        let tun = LinuxTun::create(
            &config.tun_name,
            snapshot.mesh_ip,
            snapshot.mesh_prefix_len,
            config.mtu,
            offload,
        )?;
        let io = EngineIo {
            tun: Box::new(tun),
            udp,
            clock: Arc::new(SystemClock),
        };
        Self::start_with_io(keys, io, snapshot, sink)
    }

    /// Starts on given I/O (tests use a socket pair for the TUN and a movable clock).
    pub fn start_with_io(
        keys: StaticKeys,
        io: EngineIo,
        snapshot: Snapshot,
        sink: Box<dyn EventSink>,
    ) -> Result<Engine, EngineError> {
        snapshot.validate(&keys.public)?;
        let waker = Waker::new()
            .map_err(|e| EngineError::Io(format!("cannot create the stop eventfd: {e}")))?;
        let ctx = Arc::new(Context::new(keys, io, waker, Events::new(sink), &snapshot));
        let mut engine = Engine {
            ctx,
            threads: Vec::new(),
            control_tx: Mutex::new(Tx::default()),
        };
        engine.apply(snapshot)?;
        let (ctx, stats) = (&engine.ctx, &engine.ctx.stats);
        let gso = io::offload_wanted() && udp::gso_supported(&ctx.udp);
        stats
            .offload_tun
            .store(ctx.tun.offload().into(), Ordering::Relaxed);
        stats.offload_udp_gso.store(gso.into(), Ordering::Relaxed);
        stats
            .offload_udp_gro
            .store(udp::gro(&ctx.udp).into(), Ordering::Relaxed);
        type Loop = fn(Arc<Context>);
        let loops: [(&str, Loop); 3] = [
            ("pim-outbound", outbound::run),
            ("pim-inbound", inbound::run),
            ("pim-timers", timer::run),
        ];
        for (name, body) in loops {
            let ctx = engine.ctx.clone();
            let handle = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || body(ctx))
                .map_err(|e| EngineError::Io(format!("cannot start thread {name}: {e}")))?;
            engine.threads.push(handle);
        }
        Ok(engine)
    }

    /// Swaps in a new snapshot: new peers are added, changed ones updated,
    /// configured peers no longer listed are dropped; sessions of unchanged
    /// peers are kept. The mesh address and prefix cannot change live.
    pub fn apply(&self, snapshot: Snapshot) -> Result<(), EngineError> {
        snapshot.validate(&self.ctx.keys.public)?;
        if snapshot.mesh_ip != self.ctx.mesh_ip {
            return Err(EngineError::InvalidSnapshot(
                "the mesh IP cannot change while running".into(),
            ));
        }
        self.ctx.set_policy(Policy {
            trust: snapshot.trust.clone(),
            routing: snapshot.routing.clone(),
            relays: snapshot.relays.clone(),
        });
        // Lock order: tunnel mutexes are taken with no registry guard held.
        // Collected first: a `for` over `registry().peers()` would hold the
        // read guard for the whole loop, and `registry_mut()` inside it would
        // wait on itself forever.
        let current = self.ctx.registry().peers();
        for old in current {
            if old.is_configured()
                && !snapshot
                    .peers
                    .iter()
                    .any(|p| p.public_key == old.public_key)
            {
                self.ctx.registry_mut().remove(&old.public_key);
            }
        }
        for spec in &snapshot.peers {
            let existing = self.ctx.registry().by_key(&spec.public_key);
            let path = spec
                .via
                .map(Endpoint::Relay)
                .or(spec.endpoint.map(Endpoint::Udp));
            if let Some(peer) = existing {
                // Known already (configured, or dialled in first): its
                // sessions stay; only what the snapshot decides changes.
                let mut t = peer.lock();
                t.persistent = spec.persistent;
                // A relayed peer follows its route; a neighbour keeps a
                // roamed address unless it has none yet.
                if spec.via.is_some() || !matches!(t.endpoint, Some(Endpoint::Udp(_))) {
                    t.endpoint = path;
                }
                drop(t);
                peer.configured.store(true, Ordering::Relaxed);
                continue;
            }
            let tunnel = Tunnel::new(spec.public_key, spec.mesh_ip, path, spec.persistent);
            let mut reg = self.ctx.registry_mut();
            if !reg.ip_free_for(&spec.mesh_ip, &spec.public_key) {
                return Err(EngineError::InvalidSnapshot(format!(
                    "mesh IP {} is already used by another peer",
                    spec.mesh_ip
                )));
            }
            reg.insert(Peer::new(tunnel, true), spec.mesh_ip);
        }
        Ok(())
    }

    /// Sends an advertisement to a peer over its current session; false when
    /// there is none (the control plane retries on its next round).
    pub fn send_control(&self, public_key: &PublicKey, body: &[u8]) -> Result<bool, EngineError> {
        let message = control::advert(body).ok_or_else(|| {
            EngineError::InvalidSnapshot(format!(
                "an advertisement must be 1..={MAX_ADVERT_LEN} bytes"
            ))
        })?;
        let Some(peer) = self.ctx.registry().by_key(public_key) else {
            return Ok(false);
        };
        let mut tx = self.control_tx.lock().unwrap_or_else(|p| p.into_inner());
        let sent =
            actions::seal_and_send(&self.ctx, &peer, &message, &mut tx, self.ctx.clock.now());
        tx.flush(&self.ctx);
        Ok(sent)
    }

    /// Drops a peer and its sessions (`pim peers forget`).
    pub fn forget(&self, public_key: &PublicKey) -> bool {
        self.ctx.registry_mut().remove(public_key).is_some()
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.ctx.udp.local_addr().ok()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.ctx.stats.snapshot()
    }

    pub fn peers(&self) -> Vec<PeerReport> {
        let now = self.ctx.clock.now();
        let ms =
            |t: Option<Instant>| t.map(|t| now.saturating_duration_since(t).as_millis() as u64);
        let mut reports: Vec<PeerReport> = self
            .ctx
            .registry()
            .peers()
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
                    last_received_ms: ms(t.last_received()),
                    rtt_ms: t.rtt.map(|d| d.as_secs_f64() * 1000.0),
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

    /// Stops every thread and waits for them; the TUN device goes with the context.
    pub fn stop(&mut self) {
        self.ctx.stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}
