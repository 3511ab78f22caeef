//! Every protocol timer in one place (docs/PROTOCOL.md §6). Values follow
//! WireGuard where it has one; the handshake budget and liveness bounds are
//! pim's product requirements.

use std::time::Duration;

/// The initiator of a session starts a new handshake once it is this old.
pub const REKEY_AFTER_TIME: Duration = Duration::from_secs(120);
/// The responder rekeys a little later, so both sides do not race to rekey.
pub const REKEY_AFTER_TIME_RESPONDER: Duration = Duration::from_secs(130);
/// No packet is sealed or opened with a session older than this.
pub const REJECT_AFTER_TIME: Duration = Duration::from_secs(180);
/// Rekey after this many messages (the hard stop is replay::REJECT_AFTER_MESSAGES).
pub const REKEY_AFTER_MESSAGES: u64 = 1 << 60;
/// A fresh initiation is sent if no response came within this (plus jitter).
pub const HANDSHAKE_RETRY: Duration = Duration::from_secs(1);
pub const HANDSHAKE_JITTER_MAX_MS: u64 = 333;
/// An attempt that has no response after this many seconds has failed (`timeout`).
pub const HANDSHAKE_BUDGET: Duration = Duration::from_secs(5);
/// Send a latency probe this often on a working session; the peer answers
/// at once, so both sides hear from each other at least this often.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// A peer that sent nothing authenticated for this long is down. Two probes
/// (or their replies) may be lost; detection stays within the 15 s requirement.
pub const DEAD_AFTER: Duration = Duration::from_secs(12);
/// Packets held per peer while its handshake is in flight.
pub const MAX_QUEUED_PACKETS: usize = 32;
/// How often the timer thread visits every peer.
pub const TICK: Duration = Duration::from_millis(100);
