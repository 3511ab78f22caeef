//! The registry's lookups as one immutable value that the forwarding
//! threads read without a lock: outbound routes by mesh IP, inbound by
//! session index. Every write to the registry publishes a new one when its
//! guard is released (`RegistryWrite`); writes are per handshake or
//! snapshot, not per packet, so copying the maps then is cheap.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, RwLockWriteGuard};

use arc_swap::ArcSwap;

use crate::snapshot::PublicKey;

use super::registry::{Peer, Registry};

#[derive(Default)]
pub struct Routes {
    pub(super) by_key: HashMap<PublicKey, Arc<Peer>>,
    pub(super) by_ip: HashMap<Ipv4Addr, Arc<Peer>>,
    pub(super) by_index: HashMap<u32, Arc<Peer>>,
}

impl Routes {
    pub fn by_key(&self, key: &PublicKey) -> Option<&Arc<Peer>> {
        self.by_key.get(key)
    }

    pub fn by_ip(&self, ip: &Ipv4Addr) -> Option<&Arc<Peer>> {
        self.by_ip.get(ip)
    }

    pub fn by_index(&self, index: u32) -> Option<&Arc<Peer>> {
        self.by_index.get(&index)
    }
}

/// The registry, locked for writing; publishes its routes on release.
pub struct RegistryWrite<'a> {
    pub(super) registry: RwLockWriteGuard<'a, Registry>,
    pub(super) routes: &'a ArcSwap<Routes>,
}

impl Deref for RegistryWrite<'_> {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.registry
    }
}

impl DerefMut for RegistryWrite<'_> {
    fn deref_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }
}

impl Drop for RegistryWrite<'_> {
    fn drop(&mut self) {
        // Still under the write lock, so publications keep the writes' order.
        self.routes.store(Arc::new(self.registry.lookups()));
    }
}
