//! The only napi code: the `Engine` class TypeScript drives through
//! ts/native/binding.ts. Calls are synchronous and bounded; packets never
//! cross here. Errors carry the engine's stable code as their `code`
//! property (napi's error status), never inside the message.

mod convert;
mod events;
mod notify;

use std::collections::HashMap;

use napi::bindgen_prelude::{Buffer, Error, Function};

use crate::engine::{Engine, EngineConfig};
use crate::error::{EngineError, CODES};
use convert::{EngineEvent, EngineOptions, EngineSnapshot, PeerStatus};

/// An engine error code (native/src/error.rs), as napi's error status.
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

type Result<T> = napi::Result<T, Code>;

fn js_error(e: EngineError) -> Error<Code> {
    Error::new(Code(e.code()), e.to_string())
}

fn not_running() -> Error<Code> {
    js_error(EngineError::State("the engine is not running".into()))
}

/// Every code an engine error can carry, so the control plane can check
/// that it maps each one.
// napi registers free functions only outside `cargo test` builds.
#[cfg_attr(test, allow(dead_code))]
#[napi]
pub fn engine_error_codes() -> Vec<String> {
    CODES.iter().map(|c| c.to_string()).collect()
}

#[napi(js_name = "Engine")]
pub struct JsEngine {
    inner: Option<Engine>,
}

#[napi]
impl JsEngine {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        JsEngine { inner: None }
    }

    /// Creates the TUN device, binds UDP and starts the data-plane threads.
    /// `on_event` receives engine events through a bounded queue.
    #[napi]
    pub fn start(
        &mut self,
        options: EngineOptions,
        snapshot: EngineSnapshot,
        on_event: Function<EngineEvent, ()>,
    ) -> Result<()> {
        if self.inner.is_some() {
            return Err(js_error(EngineError::State(
                "the engine is already running".into(),
            )));
        }
        let config: EngineConfig = options.try_into().map_err(js_error)?;
        let snapshot = snapshot.try_into().map_err(js_error)?;
        let sink = events::JsSink::new(&on_event).map_err(|e| {
            js_error(EngineError::Io(format!(
                "cannot set up the event callback: {}",
                e.reason
            )))
        })?;
        self.inner = Some(Engine::start(config, snapshot, Box::new(sink)).map_err(js_error)?);
        Ok(())
    }

    /// Swaps in a newer snapshot whole, or refuses it and changes nothing;
    /// sessions of peers still admitted are kept.
    #[napi]
    pub fn apply_snapshot(&self, snapshot: EngineSnapshot) -> Result<()> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        engine
            .apply(snapshot.try_into().map_err(js_error)?)
            .map_err(js_error)
    }

    /// The version of the snapshot in force.
    #[napi]
    pub fn applied_version(&self) -> Result<u32> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        Ok(engine.applied_version().unwrap_or(0))
    }

    /// Sends a control-plane advertisement to a peer; false when it has no session.
    #[napi]
    pub fn send_control(&self, public_key: String, payload: Buffer) -> Result<bool> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        engine
            .send_control(
                &convert::public_key(&public_key).map_err(js_error)?,
                &payload,
            )
            .map_err(js_error)
    }

    /// Sends one latency probe to the peer now; its reply comes back as a
    /// `probe_reply` event. False when the peer has no working session.
    #[napi]
    pub fn probe(&self, public_key: String) -> Result<bool> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        Ok(engine.probe(&convert::public_key(&public_key).map_err(js_error)?))
    }

    /// Drops a peer and its sessions; false if the engine did not know it.
    #[napi]
    pub fn forget_peer(&self, public_key: String) -> Result<bool> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        Ok(engine.forget(&convert::public_key(&public_key).map_err(js_error)?))
    }

    /// Stops and joins every thread; the TUN device is removed.
    #[napi]
    pub fn stop(&mut self) {
        self.inner = None;
    }

    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.inner.is_some()
    }

    /// The bound UDP port (useful when listen_port was 0).
    #[napi]
    pub fn local_port(&self) -> Result<u32> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        Ok(engine.local_addr().map_or(0, |a| u32::from(a.port())))
    }

    /// Every counter by name (see native/src/stats.rs).
    #[napi]
    pub fn stats(&self) -> Result<HashMap<String, f64>> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        Ok(engine
            .stats()
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v as f64))
            .collect())
    }

    #[napi]
    pub fn peers(&self) -> Result<Vec<PeerStatus>> {
        let engine = self.inner.as_ref().ok_or_else(not_running)?;
        Ok(engine.peers().into_iter().map(PeerStatus::from).collect())
    }
}
