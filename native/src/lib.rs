//! pim's data plane: the Noise IK protocol (`proto`), TUN and UDP I/O (`io`),
//! the forwarding threads (`dataplane`), and the napi `Engine` the
//! TypeScript control plane drives (`napi`, behind the default `napi` feature).

pub mod clock;
pub mod dataplane;
pub mod engine;
pub mod error;
pub mod event;
pub mod io;
pub mod offload;
pub mod proto;
pub mod ratelimit;
pub mod snapshot;
pub mod stats;
pub mod trust;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod fuzz_tests;

// The directory is napi/, but the module is not called `napi`: that name
// must keep meaning the napi crate inside the code napi-derive generates.
#[cfg(feature = "napi")]
#[macro_use]
extern crate napi_derive;
#[cfg(feature = "napi")]
#[path = "napi/mod.rs"]
mod bindings;
