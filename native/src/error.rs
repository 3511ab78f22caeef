//! Every error the engine returns to its caller, with a stable code that the
//! TypeScript side maps to its own registry (ts/native/binding.ts).

use std::fmt;

#[derive(Debug)]
pub enum EngineError {
    /// The TUN device could not be created or configured (no permission, no /dev/net/tun, name taken).
    TunUnavailable(String),
    /// The UDP socket could not be bound (port in use, bad address).
    UdpBind(String),
    /// The snapshot handed to the engine is inconsistent (bad key, address, duplicate).
    InvalidSnapshot(String),
    /// start() on a running engine, or a call on a stopped one.
    State(String),
    /// The OS refused a thread or another resource.
    Io(String),
}

impl EngineError {
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::TunUnavailable(_) => "tun_unavailable",
            EngineError::UdpBind(_) => "udp_bind_failed",
            EngineError::InvalidSnapshot(_) => "invalid_snapshot",
            EngineError::State(_) => "engine_state",
            EngineError::Io(_) => "engine_io",
        }
    }

    fn detail(&self) -> &str {
        match self {
            EngineError::TunUnavailable(m)
            | EngineError::UdpBind(m)
            | EngineError::InvalidSnapshot(m)
            | EngineError::State(m)
            | EngineError::Io(m) => m,
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.detail())
    }
}

impl std::error::Error for EngineError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let cases = [
            (
                EngineError::TunUnavailable(String::new()),
                "tun_unavailable",
            ),
            (EngineError::UdpBind(String::new()), "udp_bind_failed"),
            (
                EngineError::InvalidSnapshot(String::new()),
                "invalid_snapshot",
            ),
            (EngineError::State(String::new()), "engine_state"),
            (EngineError::Io(String::new()), "engine_io"),
        ];
        for (e, code) in cases {
            assert_eq!(e.code(), code);
        }
    }
}
