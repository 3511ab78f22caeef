// What the control plane shows about each peer: the engine's live facts
// joined with the config (labels, static or not) and the last pairing
// failure the daemon saw. camelCase here; rpc/wire.ts shapes it for clients.

import type { Config } from '../config/schema.js';
import { nodeIdFromPublicKey, shortId } from '../identity/node-id.js';
import type { PeerStatus } from '../native/engine.js';
import type { PairFailure } from './failures.js';

export type PeerViewState = 'active' | 'connecting' | 'failed';

export interface PeerView {
  publicKey: string;
  nodeId: string;
  shortId: string;
  label: string | null;
  meshIp: string;
  endpoint: string | null;
  state: PeerViewState;
  path: 'direct';
  routeHops: number;
  lastHandshakeS: number | null;
  lastSeenS: number | null;
  rxBytes: number;
  txBytes: number;
  latencyMs: number | null;
  isGateway: boolean;
  isStatic: boolean;
  lastError: string | null;
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

export function peerViews(
  statuses: readonly PeerStatus[],
  config: Config,
  failures: ReadonlyMap<string, PairFailure>,
  isGateway: (publicKey: string) => boolean = () => false,
): PeerView[] {
  const labels = new Map(config.peers.map((p) => [p.public_key, p.label]));
  return statuses.map((s) => {
    const nodeId = nodeIdFromPublicKey(Buffer.from(s.publicKey, 'hex'));
    const failure = failures.get(s.publicKey);
    return {
      publicKey: s.publicKey,
      nodeId,
      shortId: shortId(nodeId),
      label: labels.get(s.publicKey) ?? null,
      meshIp: s.meshIp,
      endpoint: s.endpoint ?? null,
      // A peer nothing redials (it dialled in) stays "connecting" in the
      // engine; after a failed pairing it is failed until it connects.
      state: s.state === 'connecting' && failure !== undefined ? 'failed' : s.state,
      path: 'direct',
      routeHops: 1,
      lastHandshakeS: seconds(s.lastHandshakeMs),
      lastSeenS: seconds(s.lastReceivedMs),
      rxBytes: s.rxBytes,
      txBytes: s.txBytes,
      latencyMs: s.rttMs === undefined ? null : Math.round(s.rttMs * 10) / 10,
      isGateway: isGateway(s.publicKey),
      isStatic: labels.has(s.publicKey),
      lastError: s.state === 'active' ? null : (failure?.reason ?? null),
    };
  });
}
