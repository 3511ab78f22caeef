//! pim's data plane: the Noise IK protocol (`proto`), TUN and UDP I/O (`io`),
//! the forwarding threads (`dataplane`), and the napi `Engine` the
//! TypeScript control plane drives (`napi`, behind the default `napi` feature).

pub mod proto;

#[cfg(feature = "napi")]
mod napi;
