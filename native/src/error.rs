//! Every error the engine returns to its caller, with a stable code. The code
//! reaches JavaScript as the error's `code` property; ts/errors.ts maps each
//! one (all listed in `CODES`) into the daemon's own error registry.

use std::fmt;

#[derive(Debug)]
pub enum EngineError {
    /// The TUN device could not be created or configured (no permission, no /dev/net/tun, name taken).
    TunUnavailable(String),
    /// The UDP socket could not be bound (port in use, bad address).
    UdpBind(String),
    /// The snapshot handed to the engine is inconsistent (bad key, address, duplicate).
    InvalidSnapshot(String),
    /// The snapshot's version is not newer than the one applied.
    StaleSnapshot { applied: u32, offered: u32 },
    /// start() on a running engine, or a call on a stopped one.
    State(String),
    /// The OS refused a thread or another resource.
    Io(String),
}

/// Every code `EngineError::code` can return.
pub const CODES: [&str; 6] = [
    "tun_unavailable",
    "udp_bind_failed",
    "invalid_snapshot",
    "snapshot_stale",
    "engine_state",
    "engine_io",
];

impl EngineError {
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::TunUnavailable(_) => CODES[0],
            EngineError::UdpBind(_) => CODES[1],
            EngineError::InvalidSnapshot(_) => CODES[2],
            EngineError::StaleSnapshot { .. } => CODES[3],
            EngineError::State(_) => CODES[4],
            EngineError::Io(_) => CODES[5],
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::TunUnavailable(m)
            | EngineError::UdpBind(m)
            | EngineError::InvalidSnapshot(m)
            | EngineError::State(m)
            | EngineError::Io(m) => f.write_str(m),
            EngineError::StaleSnapshot { applied, offered } => write!(
                f,
                "snapshot version {offered} is not newer than the applied version {applied}"
            ),
        }
    }
}

impl std::error::Error for EngineError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_distinct_listed_code() {
        let all = [
            EngineError::TunUnavailable(String::new()),
            EngineError::UdpBind(String::new()),
            EngineError::InvalidSnapshot(String::new()),
            EngineError::StaleSnapshot {
                applied: 2,
                offered: 1,
            },
            EngineError::State(String::new()),
            EngineError::Io(String::new()),
        ];
        let codes: Vec<_> = all.iter().map(EngineError::code).collect();
        assert_eq!(codes, CODES);
    }
}
