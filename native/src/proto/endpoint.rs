//! Where a peer's datagrams go and come from: a UDP address for a neighbour,
//! or a next-hop neighbour (by static public key) that relays them.

use std::fmt;
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Udp(SocketAddr),
    /// Through this neighbour, which forwards the (end-to-end encrypted) datagrams.
    Relay([u8; 32]),
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Self {
        Endpoint::Udp(a)
    }
}

impl fmt::Display for Endpoint {
    /// `ip:port`, or `relay:<first 8 hex of the next hop's key>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Udp(a) => write!(f, "{a}"),
            Endpoint::Relay(key) => {
                write!(f, "relay:")?;
                key[..4].iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}
