//! JavaScript shapes of the engine's inputs and outputs, and the checked
//! conversions between them and the engine's own types.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use napi::bindgen_prelude::Buffer;

use crate::engine::{EngineConfig, PeerReport, PeerState};
use crate::error::EngineError;
use crate::event::Event;
use crate::snapshot::{Cidr, NodeId, PeerSpec, PublicKey, Routing, Snapshot};
use crate::trust::{TrustMode, TrustPolicy};

#[napi(object)]
pub struct EngineOptions {
    /// The raw 32-byte X25519 private key.
    pub private_key: Buffer,
    pub tun_name: String,
    pub mtu: u32,
    pub bind_address: String,
    pub listen_port: u32,
    /// Firewall mark on the engine's UDP socket (0 = none), so policy routing
    /// keeps its encrypted traffic on the underlay.
    pub fwmark: u32,
}

#[napi(object)]
pub struct SnapshotPeer {
    /// 64 lowercase hex.
    pub public_key: String,
    pub mesh_ip: String,
    /// "ip:port", already resolved (a neighbour).
    pub endpoint: Option<String>,
    /// Public key of the next hop, for a peer reached through relays.
    pub via: Option<String>,
    pub persistent: bool,
}

#[napi(object)]
pub struct RelayRoute {
    /// node_id (32 hex) of a destination this node relays for.
    pub node_id: String,
    /// Public key of the neighbour that is the next hop towards it.
    pub via: String,
}

#[napi(object)]
pub struct TrustPin {
    /// An underlay IP address (no port).
    pub ip: String,
    /// The node_id (32 hex) first trusted there.
    pub node_id: String,
}

#[napi(object)]
pub struct EngineSnapshot {
    pub version: u32,
    pub mesh_ip: String,
    /// CIDR, e.g. "10.77.0.0/16".
    pub mesh_prefix: String,
    pub peers: Vec<SnapshotPeer>,
    /// "tofu" | "allow_list" | "allow_all"
    pub trust_mode: String,
    /// node_ids (32 hex) the user trusts explicitly: configured, paired,
    /// allow-listed. The only ones admitted in allow_list mode.
    pub explicit: Vec<String>,
    /// TOFU pins by underlay IP address.
    pub pins: Vec<TrustPin>,
    /// Public key of the selected gateway (an explicit peer): where non-mesh traffic goes.
    pub internet_via: Option<String>,
    /// This node is a gateway: peers' non-mesh traffic goes to the OS.
    pub gateway: bool,
    /// On a gateway: CIDRs mesh traffic is never forwarded to.
    pub gateway_blocked: Vec<String>,
    /// `[gateway] allow_lan`: explicitly trusted peers may reach `gateway_blocked`.
    pub gateway_lan_explicit: bool,
    /// The relay forwarding table: where envelopes for other nodes go next.
    pub relays: Vec<RelayRoute>,
}

/// What the engine reports, one variant per kind (docs/PROTOCOL.md §7.2).
/// Generated into index.d.ts as a union tagged by `kind`.
#[napi(discriminant = "kind", discriminant_case = "snake_case")]
pub enum EngineEvent {
    Connected {
        public_key: String,
        endpoint: String,
        mesh_ip: String,
    },
    Disconnected {
        public_key: String,
    },
    HandshakeTimeout {
        public_key: String,
    },
    EndpointChanged {
        public_key: String,
        endpoint: String,
    },
    HandshakeRejected {
        source: String,
    },
    Untrusted {
        public_key: String,
        source: String,
    },
    Revoked {
        public_key: String,
    },
    MeshIpConflict {
        public_key: String,
        mesh_ip: String,
    },
    /// A neighbour's advertisement, whole.
    Control {
        public_key: String,
        payload: Buffer,
    },
    ProbeReply {
        public_key: String,
        rtt_ms: f64,
    },
    LimitReached {
        limit: String,
        detail: String,
    },
    Fault {
        message: String,
    },
}

#[napi(object)]
pub struct PeerStatus {
    pub public_key: String,
    pub mesh_ip: String,
    /// The neighbour's ip:port, for a direct peer.
    pub endpoint: Option<String>,
    /// Public key of the next hop, for a peer reached through relays.
    pub via: Option<String>,
    /// active | connecting | failed
    pub state: String,
    pub configured: bool,
    pub last_handshake_ms: Option<f64>,
    pub last_received_ms: Option<f64>,
    pub rtt_ms: Option<f64>,
    pub rx_bytes: f64,
    pub tx_bytes: f64,
    pub gateway_bytes: f64,
}

fn bad(m: String) -> EngineError {
    EngineError::InvalidSnapshot(m)
}

fn hex_bytes<const N: usize>(s: &str, what: &str) -> Result<[u8; N], EngineError> {
    let valid = s.len() == 2 * N
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
    if !valid {
        return Err(bad(format!(
            "{what} must be {} lowercase hex characters",
            2 * N
        )));
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
            .map_err(|_| bad(format!("{what} is not hex")))?;
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn public_key(s: &str) -> Result<PublicKey, EngineError> {
    hex_bytes::<32>(s, "public key")
}

fn ipv4(s: &str, what: &str) -> Result<Ipv4Addr, EngineError> {
    s.parse()
        .map_err(|_| bad(format!("{what} {s:?} is not an IPv4 address")))
}

fn cidr(s: &str) -> Result<Cidr, EngineError> {
    let wrong = || bad(format!("{s:?} is not an IPv4 CIDR (a.b.c.d/len)"));
    let (net, len) = s.split_once('/').ok_or_else(wrong)?;
    let len: u8 = len.parse().map_err(|_| wrong())?;
    if len > 32 {
        return Err(wrong());
    }
    Ok(Cidr {
        network: net.parse().map_err(|_| wrong())?,
        len,
    })
}

fn endpoint(s: &str) -> Result<SocketAddr, EngineError> {
    s.parse()
        .map_err(|_| bad(format!("endpoint {s:?} is not ip:port")))
}

impl TryFrom<EngineOptions> for EngineConfig {
    type Error = EngineError;

    fn try_from(o: EngineOptions) -> Result<Self, EngineError> {
        let private_key: [u8; 32] = o
            .private_key
            .as_ref()
            .try_into()
            .map_err(|_| bad("the private key must be 32 bytes".into()))?;
        let port = u16::try_from(o.listen_port)
            .map_err(|_| bad(format!("listen port {} is out of range", o.listen_port)))?;
        let mtu =
            u16::try_from(o.mtu).map_err(|_| bad(format!("MTU {} is out of range", o.mtu)))?;
        let ip: IpAddr = IpAddr::V4(ipv4(&o.bind_address, "bind address")?);
        Ok(EngineConfig {
            private_key,
            tun_name: o.tun_name,
            mtu,
            bind: SocketAddr::new(ip, port),
            fwmark: o.fwmark,
        })
    }
}

impl TryFrom<EngineSnapshot> for Snapshot {
    type Error = EngineError;

    fn try_from(s: EngineSnapshot) -> Result<Self, EngineError> {
        let (net, len) = s
            .mesh_prefix
            .split_once('/')
            .ok_or_else(|| bad(format!("mesh prefix {:?} is not a CIDR", s.mesh_prefix)))?;
        let mode = match s.trust_mode.as_str() {
            "tofu" => TrustMode::Tofu,
            "allow_list" => TrustMode::AllowList,
            "allow_all" => TrustMode::AllowAll,
            other => return Err(bad(format!("unknown trust mode {other:?}"))),
        };
        let explicit: HashSet<NodeId> = s
            .explicit
            .iter()
            .map(|id| hex_bytes::<16>(id, "node_id"))
            .collect::<Result<_, _>>()?;
        let pins: HashMap<IpAddr, NodeId> = s
            .pins
            .iter()
            .map(|p| {
                let ip = p.ip.parse().map_err(|_| {
                    bad(format!(
                        "pin address {:?} is not an IP address (no port)",
                        p.ip
                    ))
                })?;
                Ok((ip, hex_bytes::<16>(&p.node_id, "node_id")?))
            })
            .collect::<Result<_, EngineError>>()?;
        let peers = s
            .peers
            .iter()
            .map(|p| {
                Ok(PeerSpec {
                    public_key: public_key(&p.public_key)?,
                    mesh_ip: ipv4(&p.mesh_ip, "peer mesh IP")?,
                    endpoint: p.endpoint.as_deref().map(endpoint).transpose()?,
                    via: p.via.as_deref().map(public_key).transpose()?,
                    persistent: p.persistent,
                })
            })
            .collect::<Result<_, EngineError>>()?;
        Ok(Snapshot {
            version: s.version,
            mesh_ip: ipv4(&s.mesh_ip, "mesh IP")?,
            mesh_prefix: ipv4(net, "mesh prefix")?,
            mesh_prefix_len: len
                .parse()
                .map_err(|_| bad(format!("mesh prefix length {len:?} is not a number")))?,
            peers,
            trust: TrustPolicy::new(mode, explicit, pins),
            routing: Routing {
                internet_via: s.internet_via.as_deref().map(public_key).transpose()?,
                gateway: s.gateway,
                gateway_blocked: s
                    .gateway_blocked
                    .iter()
                    .map(|c| cidr(c))
                    .collect::<Result<_, _>>()?,
                gateway_lan_explicit: s.gateway_lan_explicit,
            },
            relays: s
                .relays
                .iter()
                .map(|r| Ok((hex_bytes::<16>(&r.node_id, "node_id")?, public_key(&r.via)?)))
                .collect::<Result<_, EngineError>>()?,
        })
    }
}

impl From<Event> for EngineEvent {
    fn from(e: Event) -> Self {
        match e {
            Event::Connected {
                public_key,
                endpoint,
                mesh_ip,
            } => EngineEvent::Connected {
                public_key: hex(&public_key),
                endpoint: endpoint.to_string(),
                mesh_ip: mesh_ip.to_string(),
            },
            Event::Disconnected { public_key } => EngineEvent::Disconnected {
                public_key: hex(&public_key),
            },
            Event::HandshakeTimeout { public_key } => EngineEvent::HandshakeTimeout {
                public_key: hex(&public_key),
            },
            Event::EndpointChanged {
                public_key,
                endpoint,
            } => EngineEvent::EndpointChanged {
                public_key: hex(&public_key),
                endpoint: endpoint.to_string(),
            },
            Event::HandshakeRejected { source } => EngineEvent::HandshakeRejected {
                source: source.to_string(),
            },
            Event::Untrusted { public_key, source } => EngineEvent::Untrusted {
                public_key: hex(&public_key),
                source: source.to_string(),
            },
            Event::Revoked { public_key } => EngineEvent::Revoked {
                public_key: hex(&public_key),
            },
            Event::MeshIpConflict {
                public_key,
                mesh_ip,
            } => EngineEvent::MeshIpConflict {
                public_key: hex(&public_key),
                mesh_ip: mesh_ip.to_string(),
            },
            Event::Control {
                public_key,
                payload,
            } => EngineEvent::Control {
                public_key: hex(&public_key),
                payload: payload.into(),
            },
            Event::ProbeReply { public_key, rtt } => EngineEvent::ProbeReply {
                public_key: hex(&public_key),
                rtt_ms: rtt.as_secs_f64() * 1000.0,
            },
            Event::LimitReached { limit, detail } => EngineEvent::LimitReached {
                limit: limit.to_string(),
                detail,
            },
            Event::Fault { message } => EngineEvent::Fault { message },
        }
    }
}

impl From<PeerReport> for PeerStatus {
    fn from(r: PeerReport) -> Self {
        PeerStatus {
            public_key: hex(&r.public_key),
            mesh_ip: r.mesh_ip.to_string(),
            endpoint: r.endpoint.map(|e| e.to_string()),
            via: r.via.map(|k| hex(&k)),
            state: match r.state {
                PeerState::Active => "active",
                PeerState::Connecting => "connecting",
                PeerState::Failed => "failed",
            }
            .to_string(),
            configured: r.configured,
            last_handshake_ms: r.last_handshake_ms.map(|v| v as f64),
            last_received_ms: r.last_received_ms.map(|v| v as f64),
            rtt_ms: r.rtt_ms,
            rx_bytes: r.rx_bytes as f64,
            tx_bytes: r.tx_bytes as f64,
            gateway_bytes: r.gateway_bytes as f64,
        }
    }
}
