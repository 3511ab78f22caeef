//! TAI64N timestamps for handshake initiations: 8 bytes big-endian seconds
//! (2^62 + Unix seconds) and 4 bytes big-endian nanoseconds. Big-endian, so
//! comparing the bytes compares the times.

use std::time::{SystemTime, UNIX_EPOCH};

const TAI64_BASE: u64 = 1 << 62;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Tai64N(pub [u8; 12]);

impl Tai64N {
    pub fn from_system_time(t: SystemTime) -> Self {
        // A clock before 1970 is a broken clock; it yields the oldest stamp.
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let mut out = [0u8; 12];
        out[..8].copy_from_slice(&(TAI64_BASE + d.as_secs()).to_be_bytes());
        out[8..].copy_from_slice(&d.subsec_nanos().to_be_bytes());
        Tai64N(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn later_times_compare_greater() {
        let t0 = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        let cases = [
            Duration::new(0, 1),
            Duration::new(1, 0),
            Duration::new(86_400 * 365 * 30, 0),
        ];
        for later in cases {
            assert!(
                Tai64N::from_system_time(t0 + later) > Tai64N::from_system_time(t0),
                "{later:?}"
            );
        }
        assert_eq!(Tai64N::from_system_time(t0), Tai64N::from_system_time(t0));
    }

    #[test]
    fn layout_is_tai64_seconds_then_nanos() {
        let t = Tai64N::from_system_time(UNIX_EPOCH + Duration::new(1, 2));
        assert_eq!(t.0, [0x40, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    }
}
