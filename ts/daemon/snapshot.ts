// Compiles the control plane's decisions into the engine snapshot: own
// address, static peers with their expected mesh IPs and resolved endpoints,
// and the trust policy. Pure: resolution happens before, in resolve.ts.

import type { Config } from '../config/schema.js';
import type { Identity } from '../identity/identity.js';
import { isLowOrderPublicKey } from '../identity/low-order.js';
import { meshIpTextFor } from '../identity/mesh-ip.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import { formatIpv4, inPrefix, parseCidr, parseHostPort, parseIpv4 } from '../net/ipv4.js';
import type { EngineSnapshot, SnapshotPeer } from '../native/engine.js';
import { compilePins, explicitNodeIds } from '../trust/policy.js';
import type { TrustRecord } from '../trust/store.js';

export interface MeshAddressing {
  meshIp: string;
  /** Normalised CIDR of the mesh prefix, e.g. "10.77.0.0/16". */
  meshPrefix: string;
  prefixLen: number;
}

/** An underlay address the engine can send to: an IPv4 address and a port. */
function dialable(endpoint: string): boolean {
  const hp = parseHostPort(endpoint);
  return hp !== null && parseIpv4(hp.host) !== null;
}

/** The node's own mesh address: the configured override, else derived from node_id. */
export function meshAddressing(config: Config, identity: Identity): MeshAddressing {
  const prefix = parseCidr(config.interface.mesh_ipv4_prefix);
  if (!prefix) throw new Error(`invalid mesh prefix ${config.interface.mesh_ipv4_prefix} passed validation`);
  const override = config.interface.address === null ? null : parseCidr(config.interface.address);
  const meshIp = override ? formatIpv4(override.address) : meshIpTextFor(identity.nodeId, prefix);
  return { meshIp, meshPrefix: `${formatIpv4(prefix.network)}/${prefix.prefixLen}`, prefixLen: prefix.prefixLen };
}

/** The routing decisions the engine enforces (see routing/). */
export interface SnapshotRouting {
  /** Public key of the selected gateway, or null: non-mesh traffic is dropped. */
  internetVia: string | null;
  /** This node forwards peers' non-mesh traffic to the OS. */
  gateway: boolean;
  /** On a gateway: the host's addresses and local subnets, never forwarded to. */
  gatewayBlocked: string[];
}

const NO_ROUTING: SnapshotRouting = { internetVia: null, gateway: false, gatewayBlocked: [] };

export interface SnapshotProblem {
  publicKey: string;
  message: string;
}

export interface CompiledSnapshot {
  snapshot: EngineSnapshot;
  /** Static peers left out, with why (e.g. a mesh-IP collision). */
  problems: SnapshotProblem[];
}

/** A node reached through relays: its mesh IP (as it advertises it) and the next hop. */
export interface RelayedPeer {
  publicKey: string;
  meshIp: string;
  via: string;
}

export interface SnapshotInput {
  config: Config;
  identity: Identity;
  addressing: MeshAddressing;
  /** Static peers' resolved endpoints, by public key. */
  endpoints: ReadonlyMap<string, string>;
  version: number;
  trusted?: readonly TrustRecord[];
  routing?: SnapshotRouting;
  /** Non-neighbours the routing table can reach (distance-vector, routing/). */
  relayed?: readonly RelayedPeer[];
  /** Where relay envelopes for other nodes go next. */
  relays?: readonly { nodeId: string; via: string }[];
  /** Where LAN discovery last heard each node (public key → ip:port). */
  discovered?: ReadonlyMap<string, string>;
}

export function compileSnapshot(input: SnapshotInput): CompiledSnapshot {
  const { config, identity, addressing, endpoints, version, trusted = [], routing = NO_ROUTING, relayed = [], relays = [] } = input;
  const discovered = input.discovered ?? new Map<string, string>();
  const prefix = parseCidr(addressing.meshPrefix)!;
  const problems: SnapshotProblem[] = [];
  const taken = new Map<string, string>([[addressing.meshIp, 'this node']]);
  const peers: SnapshotPeer[] = [];
  // Keys already listed: a set, so compiling stays linear in the peers and routes.
  const listed = new Set<string>();
  // Listing a key under [[peers]] trusts it, as in WireGuard: explicit peers pass allow_list too.
  const explicit = explicitNodeIds(config, trusted);

  const add = (publicKey: string, name: string, endpoint: string | undefined, via?: { key: string; meshIp: string }): void => {
    if (publicKey === identity.publicKeyHex) {
      problems.push({ publicKey, message: `${name} has this node's own public key; ignored` });
      return;
    }
    if (isLowOrderPublicKey(Buffer.from(publicKey, 'hex'))) {
      problems.push({ publicKey, message: `${name} has a low-order public key that no real node has; ignored` });
      return;
    }
    const nodeId = nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
    if (config.trust.mode === 'allow_list' && !explicit.has(nodeId)) {
      problems.push({ publicKey, message: `${name} (${nodeId}) is not in [trust] allow_list; not dialled` });
      return;
    }
    const meshIp = via?.meshIp ?? meshIpTextFor(nodeId, prefix);
    const ip = parseIpv4(meshIp);
    const host = ip === null ? -1 : (ip - prefix.network) >>> 0;
    if (ip === null || !inPrefix(ip, prefix.network, prefix.prefixLen) || host === 0 || host === 2 ** (32 - prefix.prefixLen) - 1) {
      problems.push({ publicKey, message: `${name} advertises mesh IP ${meshIp}, outside ${addressing.meshPrefix}; ignored` });
      return;
    }
    const holder = taken.get(meshIp);
    if (holder !== undefined) {
      problems.push({
        publicKey,
        message: `mesh IP collision: ${meshIp} is derived for both ${name} and ${holder}; set [interface] address on one of the two nodes`,
      });
      return;
    }
    taken.set(meshIp, name);
    listed.add(publicKey);
    if (via) peers.push({ publicKey, meshIp, via: via.key, persistent: false });
    else peers.push({ publicKey, meshIp, ...(endpoint === undefined ? {} : { endpoint }), persistent: true });
  };
  for (const p of config.peers) {
    const name = p.label ?? nodeIdFromPublicKey(Buffer.from(p.public_key, 'hex')).slice(0, 8);
    add(p.public_key, `static peer ${name} (${p.address})`, endpoints.get(p.public_key) ?? discovered.get(p.public_key));
  }
  // Peers the user paired are kept connected like static ones, and so are
  // trusted peers that discovery hears on the LAN (at the address heard).
  for (const r of trusted) {
    if (listed.has(r.publicKey)) continue;
    const name = `${r.source === 'paired' ? 'paired' : 'trusted'} peer ${r.nodeId.slice(0, 8)}`;
    const endpoint = discovered.get(r.publicKey) ?? (r.source === 'paired' ? r.endpoint : null);
    if (endpoint === null) continue;
    // One record pim cannot dial (a store from an older version held relay
    // addresses) is reported and skipped: it never blocks the snapshot.
    if (!dialable(endpoint)) {
      problems.push({ publicKey: r.publicKey, message: `${name}: the trust store's address ${JSON.stringify(endpoint)} is not ip:port; not dialled` });
      continue;
    }
    add(r.publicKey, name, endpoint);
  }
  // Reached through relays: sessions are opened when traffic needs one.
  for (const r of relayed) {
    if (!listed.has(r.publicKey)) add(r.publicKey, `relayed node ${nodeIdFromPublicKey(Buffer.from(r.publicKey, 'hex')).slice(0, 8)}`, undefined, { key: r.via, meshIp: r.meshIp });
  }
  return {
    snapshot: {
      version,
      meshIp: addressing.meshIp,
      meshPrefix: addressing.meshPrefix,
      peers,
      trustMode: config.trust.mode,
      explicit: [...explicit],
      // Pins come from the store and the config file only: an address discovery heard is never one.
      pins: compilePins(
        config,
        trusted,
        config.peers.filter((c) => listed.has(c.public_key)).map((c) => ({ publicKey: c.public_key, endpoint: endpoints.get(c.public_key) })),
      ),
      ...(routing.internetVia === null ? {} : { internetVia: routing.internetVia }),
      gateway: routing.gateway,
      gatewayBlocked: routing.gatewayBlocked,
      gatewayLanExplicit: config.gateway.allow_lan,
      relays: [...relays],
    },
    problems,
  };
}
