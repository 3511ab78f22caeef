import { formatIpv4, prefixMask } from '../net/ipv4.js';
import { isNodeId } from './node-id.js';

// Every node computes every other node's mesh IP from its node_id alone, so
// no address allocation protocol is needed. The Rust data plane and
// docs/PROTOCOL.md state the same rule; any change here must change all three.
//
//   hostBits = 32 − L, size = 2^hostBits
//   h        = node_id bytes 0..3 as an unsigned 32-bit big-endian integer
//   host     = 1 + (h mod (size − 2))
//   ip       = N + host
//
// host is in 1..size−2, so the result is never the network or broadcast address.

export const MIN_MESH_PREFIX_LEN = 8;
export const MAX_MESH_PREFIX_LEN = 30;

export interface MeshPrefix {
  network: number;
  prefixLen: number;
}

export function meshIpFor(nodeId: string, prefix: MeshPrefix): number {
  if (!isNodeId(nodeId)) throw new RangeError(`not a node_id (32 lowercase hex): ${nodeId}`);
  const { network, prefixLen } = prefix;
  if (!Number.isInteger(prefixLen) || prefixLen < MIN_MESH_PREFIX_LEN || prefixLen > MAX_MESH_PREFIX_LEN) {
    throw new RangeError(
      `mesh prefix length must be ${MIN_MESH_PREFIX_LEN}..${MAX_MESH_PREFIX_LEN}, got ${prefixLen}`,
    );
  }
  if ((network & prefixMask(prefixLen)) >>> 0 !== network) {
    throw new RangeError(`mesh prefix network ${formatIpv4(network)}/${prefixLen} has host bits set`);
  }
  const size = 2 ** (32 - prefixLen);
  const h = Buffer.from(nodeId.slice(0, 8), 'hex').readUInt32BE(0);
  const host = 1 + (h % (size - 2));
  return network + host;
}

export function meshIpTextFor(nodeId: string, prefix: MeshPrefix): string {
  return formatIpv4(meshIpFor(nodeId, prefix));
}
