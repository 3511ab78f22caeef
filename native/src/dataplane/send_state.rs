//! What the outbound thread needs from a peer for most packets, readable
//! without the peer's lock: the session to seal with and where to send.
//!
//! Published by `TunnelGuard`: every locked change to a tunnel that alters
//! its current session or endpoint stores a new `Sending` as the lock is
//! released (still holding it, so stores keep the order of the changes).
//! The outbound thread seals with it while the session needs no decision
//! (no rekey due, so not near expiry either); otherwise it takes the lock
//! and asks the tunnel, as every other path does.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use crate::proto::endpoint::Endpoint;
use crate::proto::session::Session;
use crate::proto::timers::{REKEY_AFTER_MESSAGES, REKEY_AFTER_TIME, REKEY_AFTER_TIME_RESPONDER};
use crate::proto::tunnel::Tunnel;

use super::registry::Peer;

pub struct Sending {
    pub session: Arc<Session>,
    pub endpoint: Endpoint,
}

impl Sending {
    /// Sealing with it now needs nothing from the tunnel: the rekey limits
    /// (which come before expiry) are not reached.
    pub fn ready(&self, now: Instant) -> bool {
        let s = &self.session;
        let rekey_after = if s.initiator {
            REKEY_AFTER_TIME
        } else {
            REKEY_AFTER_TIME_RESPONDER
        };
        s.age(now) < rekey_after && s.sent() < REKEY_AFTER_MESSAGES
    }
}

/// A peer's tunnel, locked; publishes the peer's `Sending` on release.
pub struct TunnelGuard<'a> {
    pub(super) peer: &'a Peer,
    pub(super) tunnel: MutexGuard<'a, Tunnel>,
}

impl Deref for TunnelGuard<'_> {
    type Target = Tunnel;

    fn deref(&self) -> &Tunnel {
        &self.tunnel
    }
}

impl DerefMut for TunnelGuard<'_> {
    fn deref_mut(&mut self) -> &mut Tunnel {
        &mut self.tunnel
    }
}

impl Drop for TunnelGuard<'_> {
    fn drop(&mut self) {
        let current = self.tunnel.current_sending();
        let unchanged = match (&*self.peer.send.load(), current) {
            (Some(s), Some((session, endpoint))) => {
                Arc::ptr_eq(&s.session, session) && s.endpoint == endpoint
            }
            (None, None) => true,
            _ => false,
        };
        if !unchanged {
            let sending = current.map(|(session, endpoint)| {
                Arc::new(Sending {
                    session: session.clone(),
                    endpoint,
                })
            });
            self.peer.send.store(sending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A transport session from a throwaway Noise handshake.
    fn session(initiator: bool, now: Instant) -> Arc<Session> {
        let params: snow::params::NoiseParams = "Noise_NN_25519_ChaChaPoly_SHA256".parse().unwrap();
        let mut i = snow::Builder::new(params.clone())
            .build_initiator()
            .unwrap();
        let mut r = snow::Builder::new(params).build_responder().unwrap();
        let (mut m, mut p) = ([0u8; 128], [0u8; 128]);
        let n = i.write_message(&[], &mut m).unwrap();
        r.read_message(&m[..n], &mut p).unwrap();
        let n = r.write_message(&[], &mut m).unwrap();
        i.read_message(&m[..n], &mut p).unwrap();
        let t = if initiator { i } else { r };
        Arc::new(Session::new(
            t.into_stateless_transport_mode().unwrap(),
            1,
            2,
            initiator,
            now,
        ))
    }

    #[test]
    fn ready_until_a_rekey_is_due() {
        let t0 = Instant::now();
        let endpoint = Endpoint::Udp("198.18.0.2:9100".parse().unwrap());
        // (case, initiator, age in seconds, ready)
        let cases = [
            ("fresh", true, 0, true),
            ("initiator just before its rekey time", true, 119, true),
            ("initiator at its rekey time", true, 120, false),
            (
                "responder after the initiator's rekey time",
                false,
                125,
                true,
            ),
            ("responder at its own rekey time", false, 130, false),
            ("expired", false, 180, false),
        ];
        for (name, initiator, age, ready) in cases {
            let s = Sending {
                session: session(initiator, t0),
                endpoint,
            };
            assert_eq!(s.ready(t0 + Duration::from_secs(age)), ready, "{name}");
        }
    }
}
