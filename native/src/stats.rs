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
    // under load: cookie replies sent instead of handshake work (§4.10)
    cookie_replies_sent,
    cookies_received,
    // half-open handshakes evicted from a full table, or expired unconfirmed
    half_open_evicted,
    half_open_expired,
    // dynamic peers collected after being down and idle
    peers_collected,
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
    // under load: an initiation without a valid mac2 (answered with a cookie)
    drop_needs_cookie,
    // under load: a source over its handshake rate
    drop_rate_limited,
    // the handshake queue was full: shed
    drop_handshake_overload,
    // a cookie reply that does not open, or answers no initiation in flight
    drop_bad_cookie,
    drop_unknown_index,
    drop_replay,
    drop_decrypt,
    drop_expired,
    drop_source_mismatch,
    drop_internet_source,
    drop_not_for_us,
    drop_gateway_blocked,
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
    // a data-plane thread that panicked (and stopped: the engine reports a fault)
    thread_panics,
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
