//! The engine's lifecycle: build the context, start the four data-plane
//! threads, swap in new snapshots (`apply`), report peers and counters
//! (`report`), and stop (joining every thread) — the whole surface the napi
//! layer exposes.

mod apply;
mod report;

pub use report::{PeerReport, PeerState};

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::clock::engine_clock;
use crate::dataplane::context::{Context, EngineIo};
use crate::dataplane::tx::Tx;
use crate::dataplane::{actions, handshake_worker, inbound, outbound, timer};
use crate::error::EngineError;
use crate::event::{Event, EventSink, Events};
use crate::io::tun::LinuxTun;
use crate::io::waker::Waker;
use crate::io::{self, udp};
use crate::proto::control::{self, MAX_ADVERT_LEN};
use crate::proto::handshake::StaticKeys;
use crate::snapshot::{PublicKey, Snapshot};
use crate::stats::{Stats, StatsSnapshot};

pub struct EngineConfig {
    pub private_key: [u8; 32],
    pub tun_name: String,
    pub mtu: u16,
    pub bind: SocketAddr,
    pub fwmark: u32,
}

pub struct Engine {
    ctx: Arc<Context>,
    threads: Vec<JoinHandle<()>>,
    /// Send buffers for control messages from the JavaScript thread.
    control_tx: Mutex<Tx>,
    /// The version of the snapshot in force; held while one is applied, so
    /// applies run one at a time.
    applied: Mutex<Option<u32>>,
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
            clock: engine_clock(),
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
            applied: Mutex::new(None),
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
        let loops: [(&str, Loop); 4] = [
            ("pim-outbound", outbound::run),
            ("pim-inbound", inbound::run),
            ("pim-handshakes", handshake_worker::run),
            ("pim-timers", timer::run),
        ];
        for (name, body) in loops {
            let ctx = engine.ctx.clone();
            let handle = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || contained(name, body, ctx))
                .map_err(|e| EngineError::Io(format!("cannot start thread {name}: {e}")))?;
            engine.threads.push(handle);
        }
        Ok(engine)
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

    /// Sends the peer one latency probe now, whose reply is reported as
    /// `probe_reply`; false when it has no working session.
    pub fn probe(&self, public_key: &PublicKey) -> bool {
        let Some(peer) = self.ctx.registry().by_key(public_key) else {
            return false;
        };
        let now = self.ctx.clock.now();
        let Some(nonce) = peer.lock().request_probe(now) else {
            return false;
        };
        let mut tx = self.control_tx.lock().unwrap_or_else(|p| p.into_inner());
        let sent = actions::seal_and_send(&self.ctx, &peer, &control::probe(nonce), &mut tx, now);
        tx.flush(&self.ctx);
        if sent {
            Stats::inc(&self.ctx.stats.probes_sent);
        }
        sent
    }

    /// Drops a peer and its sessions (`pim peers forget`).
    pub fn forget(&self, public_key: &PublicKey) -> bool {
        let removed = self.ctx.registry_mut().remove(public_key);
        match removed {
            Some(peer) => {
                peer.lock().close();
                true
            }
            None => false,
        }
    }

    /// The shared state, for tests that set up what would take too long to
    /// build through the wire (a full peer table).
    #[cfg(test)]
    pub(crate) fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.ctx.udp.local_addr().ok()
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.ctx.stats.snapshot()
    }

    /// Stops every thread and waits for them; the TUN device goes with the context.
    pub fn stop(&mut self) {
        self.ctx.stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Runs a data-plane thread so that a panic never unwinds into Node and is
/// never silent: it becomes a `fault` event (the control plane stops the
/// daemon, failing closed) and a count in `thread_panics`. The thread is
/// gone afterwards; nothing restarts it, since its state may be broken.
fn contained(name: &str, body: fn(Arc<Context>), ctx: Arc<Context>) {
    let run = std::panic::AssertUnwindSafe(|| body(ctx.clone()));
    if let Err(panic) = std::panic::catch_unwind(run) {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic".into());
        Stats::inc(&ctx.stats.thread_panics);
        ctx.emit(Event::Fault {
            message: format!("data-plane thread {name} panicked ({what}) and has stopped"),
        });
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}
