// Compiles the control plane's decisions into the engine snapshot: own
// address, static peers with their expected mesh IPs and resolved endpoints,
// and the trust policy. Pure: resolution happens before, in resolve.ts.

import type { Config } from '../config/schema.js';
import type { Identity } from '../identity/identity.js';
import { meshIpTextFor } from '../identity/mesh-ip.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import { formatIpv4, parseCidr } from '../net/ipv4.js';
import type { EngineSnapshot, SnapshotPeer } from '../native/engine.js';

export interface MeshAddressing {
  meshIp: string;
  /** Normalised CIDR of the mesh prefix, e.g. "10.77.0.0/16". */
  meshPrefix: string;
  prefixLen: number;
}

/** The node's own mesh address: the configured override, else derived from node_id. */
export function meshAddressing(config: Config, identity: Identity): MeshAddressing {
  const prefix = parseCidr(config.interface.mesh_ipv4_prefix);
  if (!prefix) throw new Error(`invalid mesh prefix ${config.interface.mesh_ipv4_prefix} passed validation`);
  const override = config.interface.address === null ? null : parseCidr(config.interface.address);
  const meshIp = override ? formatIpv4(override.address) : meshIpTextFor(identity.nodeId, prefix);
  return { meshIp, meshPrefix: `${formatIpv4(prefix.network)}/${prefix.prefixLen}`, prefixLen: prefix.prefixLen };
}

export interface SnapshotProblem {
  publicKey: string;
  message: string;
}

export interface CompiledSnapshot {
  snapshot: EngineSnapshot;
  /** Static peers left out, with why (e.g. a mesh-IP collision). */
  problems: SnapshotProblem[];
}

export function compileSnapshot(
  config: Config,
  identity: Identity,
  addressing: MeshAddressing,
  endpoints: ReadonlyMap<string, string>,
  version: number,
): CompiledSnapshot {
  const prefix = parseCidr(addressing.meshPrefix)!;
  const problems: SnapshotProblem[] = [];
  const taken = new Map<string, string>([[addressing.meshIp, 'this node']]);
  const peers: SnapshotPeer[] = [];
  for (const p of config.peers) {
    if (p.public_key === identity.publicKeyHex) {
      problems.push({ publicKey: p.public_key, message: 'this static peer has our own public key; ignored' });
      continue;
    }
    const nodeId = nodeIdFromPublicKey(Buffer.from(p.public_key, 'hex'));
    const meshIp = meshIpTextFor(nodeId, prefix);
    const holder = taken.get(meshIp);
    if (holder !== undefined) {
      problems.push({
        publicKey: p.public_key,
        message: `mesh IP collision: ${meshIp} is also derived for ${holder}; set [interface] address on one of the two nodes`,
      });
      continue;
    }
    taken.set(meshIp, p.label ?? nodeId.slice(0, 8));
    const endpoint = endpoints.get(p.public_key);
    peers.push({ publicKey: p.public_key, meshIp, ...(endpoint === undefined ? {} : { endpoint }), persistent: true });
  }
  // TOFU: a configured peer's address is pinned to the node_id of its configured key.
  const pins =
    config.trust.mode === 'tofu'
      ? peers.flatMap((p) => (p.endpoint ? [{ endpoint: p.endpoint, nodeId: nodeIdFromPublicKey(Buffer.from(p.publicKey, 'hex')) }] : []))
      : [];
  return {
    snapshot: {
      version,
      meshIp: addressing.meshIp,
      meshPrefix: addressing.meshPrefix,
      peers,
      trustMode: config.trust.mode,
      allowList: [...config.trust.allow_list],
      pins,
    },
    problems,
  };
}
