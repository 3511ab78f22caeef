//! Applying a snapshot, as nebula reloads: build the complete new state from
//! the snapshot and a read of the live one (policy, peers to add, update,
//! drop and revoke, mesh-IP claims and their collisions), validate it, then
//! swap it in under the registry's write lock in one step. A snapshot
//! refused at any point before the swap changes nothing.
//!
//! 1. version newer than the applied one; the snapshot valid on its own
//! 2. read the live peers (registry generation, each peer's route and
//!    endpoint; tunnels locked one at a time with no registry lock held)
//! 3. plan: every live peer is re-decided by the new policy; collisions
//! 4. swap, if the registry generation is still the one read in 2 (else
//!    back to 2: a handshake changed the peer set meanwhile)
//! 5. settle the peers outside the registry lock: close removed tunnels,
//!    update kept ones, report revocations

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Engine;
use crate::dataplane::context::{Context, Policy};
use crate::dataplane::registry::Peer;
use crate::error::EngineError;
use crate::event::Event;
use crate::proto::endpoint::Endpoint;
use crate::proto::tunnel::Tunnel;
use crate::snapshot::{short, PeerSpec, PublicKey, Snapshot};
use crate::stats::Stats;
use crate::trust::Verdict;

/// How often a swap may find the peer set changed under it before the apply
/// gives up; each retry needs a handshake to land within microseconds.
const MAX_ATTEMPTS: usize = 16;

struct Live {
    generation: u64,
    peers: Vec<LivePeer>,
}

struct LivePeer {
    peer: Arc<Peer>,
    /// Where the registry routes it (its claimed or configured mesh IP).
    route: Option<Ipv4Addr>,
    endpoint: Option<Endpoint>,
}

#[derive(Default)]
struct Plan<'s> {
    /// Listed before, not any more, and still admitted: the control plane
    /// dropped it for another reason (such as a lost route).
    unlisted: Vec<Arc<Peer>>,
    /// Not listed, and the new policy refuses it.
    revoked: Vec<Arc<Peer>>,
    /// Known already and listed: its sessions stay.
    kept: Vec<(Arc<Peer>, &'s PeerSpec)>,
    added: Vec<(Arc<Peer>, Ipv4Addr)>,
}

fn read_live(ctx: &Context) -> Live {
    let (generation, peers, routes) = {
        let reg = ctx.registry();
        let routes: HashMap<PublicKey, Ipv4Addr> =
            reg.routes().map(|(ip, p)| (p.public_key, *ip)).collect();
        (reg.generation(), reg.peers(), routes)
    };
    let peers = peers
        .into_iter()
        .map(|peer| {
            let endpoint = peer.lock().endpoint;
            LivePeer {
                route: routes.get(&peer.public_key).copied(),
                endpoint,
                peer,
            }
        })
        .collect();
    Live { generation, peers }
}

fn plan<'s>(snapshot: &'s Snapshot, live: &Live) -> Result<Plan<'s>, EngineError> {
    let listed: HashMap<PublicKey, &PeerSpec> =
        snapshot.peers.iter().map(|p| (p.public_key, p)).collect();
    let mut plan = Plan::default();
    // Mesh IPs held once the plan is in force, by whom.
    let mut held: HashMap<Ipv4Addr, PublicKey> = HashMap::new();
    for lp in &live.peers {
        let key = lp.peer.public_key;
        let admitted = || {
            snapshot
                .trust
                .decide(&lp.peer.node_id, lp.endpoint.as_ref())
        };
        if let Some(spec) = listed.get(&key) {
            // Listed peers are admitted: `Snapshot::validate` checked it.
            plan.kept.push((lp.peer.clone(), spec));
        } else if admitted() != Verdict::Admit {
            // Dialled in, or listed before: the policy refuses it now.
            plan.revoked.push(lp.peer.clone());
            continue;
        } else if lp.peer.is_configured() {
            plan.unlisted.push(lp.peer.clone());
            continue;
        }
        if let Some(ip) = lp.route {
            held.insert(ip, key);
        }
    }
    for spec in &snapshot.peers {
        if plan
            .kept
            .iter()
            .any(|(p, _)| p.public_key == spec.public_key)
        {
            continue;
        }
        if let Some(holder) = held.get(&spec.mesh_ip) {
            return Err(EngineError::InvalidSnapshot(format!(
                "mesh IP {} of peer {} is held by peer {} (claimed in its handshake); \
                 one of the two nodes needs [interface] address",
                spec.mesh_ip,
                short(&spec.public_key),
                short(holder)
            )));
        }
        held.insert(spec.mesh_ip, spec.public_key);
        let tunnel = Tunnel::new(spec.public_key, spec.mesh_ip, spec.path(), spec.persistent);
        plan.added.push((Peer::new(tunnel, true), spec.mesh_ip));
    }
    Ok(plan)
}

impl Engine {
    /// Swaps in a new snapshot: new peers are added, listed ones updated
    /// (their sessions kept), and every other peer (dialled in, or listed
    /// before) re-decided by the new trust policy: one it refuses loses its
    /// sessions at once and is reported `revoked`; one it still admits stays
    /// if it dialled in and goes if it was listed. The mesh address and
    /// prefix cannot change live.
    pub fn apply(&self, snapshot: Snapshot) -> Result<(), EngineError> {
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(applied) = *applied {
            if snapshot.version <= applied {
                return Err(EngineError::StaleSnapshot {
                    applied,
                    offered: snapshot.version,
                });
            }
        }
        snapshot.validate(&self.ctx.keys.public)?;
        if !self.ctx.same_addressing(&snapshot) {
            return Err(EngineError::InvalidSnapshot(
                "the mesh IP and prefix cannot change while running; restart to change them".into(),
            ));
        }
        for _ in 0..MAX_ATTEMPTS {
            let live = read_live(&self.ctx);
            let plan = plan(&snapshot, &live)?;
            if self.swap(&snapshot, &plan, live.generation) {
                self.settle(&plan);
                *applied = Some(snapshot.version);
                return Ok(());
            }
        }
        Err(EngineError::State(
            "the peer set kept changing while the snapshot was applied; apply it again".into(),
        ))
    }

    /// The version of the snapshot in force.
    pub fn applied_version(&self) -> Option<u32> {
        *self.applied.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts the plan in force in one step; false (nothing changed) if the
    /// peer set is no longer the one the plan was built from.
    fn swap(&self, snapshot: &Snapshot, plan: &Plan<'_>, generation: u64) -> bool {
        let mut reg = self.ctx.registry_mut();
        if reg.generation() != generation {
            return false;
        }
        reg.set_trust(snapshot.trust.clone());
        for peer in plan.unlisted.iter().chain(&plan.revoked) {
            reg.remove(&peer.public_key);
        }
        for (peer, ip) in &plan.added {
            reg.insert(peer.clone(), *ip);
        }
        for (peer, _) in &plan.kept {
            peer.configured.store(true, Ordering::Relaxed);
        }
        drop(reg);
        self.ctx.set_policy(Policy {
            routing: snapshot.routing.clone(),
            relays: snapshot.relays.clone(),
        });
        true
    }

    fn settle(&self, plan: &Plan<'_>) {
        for peer in plan.unlisted.iter().chain(&plan.revoked) {
            peer.lock().close();
        }
        for peer in &plan.revoked {
            Stats::inc(&self.ctx.stats.peers_revoked);
            self.ctx.emit(Event::Revoked {
                public_key: peer.public_key,
            });
        }
        for (peer, spec) in &plan.kept {
            let mut t = peer.lock();
            t.persistent = spec.persistent;
            // A relayed peer follows its route; a neighbour keeps a roamed
            // address unless it has none yet.
            if spec.via.is_some() || !matches!(t.endpoint, Some(Endpoint::Udp(_))) {
                t.endpoint = spec.path();
            }
        }
    }
}
