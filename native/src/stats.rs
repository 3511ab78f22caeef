//! Engine-wide counters: written with relaxed atomics on the hot path, read
//! by `getStats()` polling. Every dropped datagram or packet increments
//! exactly one drop counter naming why.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        #[derive(Default)]
        pub struct Stats { $(pub $name: AtomicU64,)* }

        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct StatsSnapshot { $(pub $name: u64,)* }

        impl Stats {
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }

        impl StatsSnapshot {
            /// Every counter by its field name, for the napi layer.
            pub fn entries(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }
    };
}

counters!(
    // traffic
    tx_packets,
    tx_bytes,
    rx_packets,
    rx_bytes,
    keepalives_sent,
    keepalives_received,
    probes_sent,
    probes_received,
    handshakes_initiated,
    handshakes_completed,
    handshake_responses_sent,
    // peers that dialled in and lost their sessions to a stricter policy
    peers_revoked,
    // relaying
    relayed_received,
    forwarded_packets,
    forwarded_bytes,
    // inbound drops (datagrams from the underlay)
    drop_malformed,
    drop_bad_mac,
    drop_handshake_rejected,
    drop_handshake_replay,
    drop_untrusted,
    drop_mesh_ip_conflict,
    drop_peer_limit,
    drop_unknown_index,
    drop_replay,
    drop_decrypt,
    drop_expired,
    drop_source_mismatch,
    drop_not_for_us,
    drop_unknown_payload,
    drop_advert_flood,
    drop_relay_nested,
    drop_ttl_expired,
    drop_no_relay_route,
    // a packet that is not IPv4: read from the TUN, or decrypted from a peer
    drop_not_ipv4,
    // outbound drops (packets from the TUN)
    drop_no_route,
    drop_no_gateway,
    drop_no_endpoint,
    drop_queue_full,
    drop_oversized,
    // a TUN read whose offload header does not match the packet
    drop_bad_offload,
    // I/O failures
    icmp_unreachable_sent,
    tun_write_errors,
    udp_send_errors,
    events_dropped,
    // offloads in use (gauges, 1 = on): TSO and coalesced writes on the TUN
    // device, segmented UDP sends, coalesced UDP reads
    offload_tun,
    offload_udp_gso,
    offload_udp_gro,
);

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl StatsSnapshot {
    /// Every drop counter, by the reason name used in status.stats.
    pub fn drops(&self) -> [(&'static str, u64); 25] {
        [
            ("malformed", self.drop_malformed),
            ("bad_mac", self.drop_bad_mac),
            ("handshake_rejected", self.drop_handshake_rejected),
            ("handshake_replay", self.drop_handshake_replay),
            ("untrusted", self.drop_untrusted),
            ("mesh_ip_conflict", self.drop_mesh_ip_conflict),
            ("peer_limit", self.drop_peer_limit),
            ("unknown_index", self.drop_unknown_index),
            ("replay", self.drop_replay),
            ("decrypt", self.drop_decrypt),
            ("expired", self.drop_expired),
            ("source_mismatch", self.drop_source_mismatch),
            ("not_for_us", self.drop_not_for_us),
            ("unknown_payload", self.drop_unknown_payload),
            ("advert_flood", self.drop_advert_flood),
            ("relay_nested", self.drop_relay_nested),
            ("ttl_expired", self.drop_ttl_expired),
            ("no_relay_route", self.drop_no_relay_route),
            ("not_ipv4", self.drop_not_ipv4),
            ("no_route", self.drop_no_route),
            ("no_gateway", self.drop_no_gateway),
            ("no_endpoint", self.drop_no_endpoint),
            ("queue_full", self.drop_queue_full),
            ("oversized", self.drop_oversized),
            ("bad_offload", self.drop_bad_offload),
        ]
    }
}
