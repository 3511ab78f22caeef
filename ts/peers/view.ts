// What the control plane shows about each peer: the engine's live facts
// joined with the config (labels, static or not) and the last pairing
// failure the daemon saw. camelCase here; rpc/wire.ts shapes it for clients.

import type { Config } from '../config/schema.js';
import { nodeIdFromPublicKey, shortId } from '../identity/node-id.js';
import type { PeerStatus } from '../native/engine.js';
import type { PairFailure } from './failures.js';
import type { Route } from '../routing/distance-vector.js';

export type PeerViewState = 'active' | 'connecting' | 'failed' | 'relayed';

export interface PeerView {
  publicKey: string;
  nodeId: string;
  shortId: string;
  label: string | null;
  meshIp: string;
  endpoint: string | null;
  state: PeerViewState;
  /** `direct`, or `via <short id>` of the next hop. */
  path: string;
  routeHops: number;
  lastHandshakeS: number | null;
  /** Since this node last heard from the peer (see ViewSources.heardMsAgo); null: never heard, never paired or pinned. */
  lastSeenS: number | null;
  rxBytes: number;
  txBytes: number;
  latencyMs: number | null;
  isGateway: boolean;
  isStatic: boolean;
  lastError: string | null;
  /** For a peer refused as untrusted: the node_id pinned where it came from. */
  conflictsWith: string | null;
  /** For a peer refused as untrusted: what the user can do. */
  hint: string | null;
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

function viewState(s: PeerStatus, failure: PairFailure | undefined): PeerViewState {
  // A working session through a relay is "relayed".
  if (s.state === 'active' && s.via !== undefined) return 'relayed';
  // A peer nothing redials (it dialled in) stays "connecting" in the engine;
  // after a failed pairing it is failed until it connects.
  if (s.state === 'connecting' && failure !== undefined) return 'failed';
  return s.state;
}

export type RefusalAdvice = (peer: { nodeId: string; endpoint: string | null }) => { conflictsWith: string | null; hint: string };

/** What the views add to the engine's facts, beyond the config and failures. */
export interface ViewSources {
  route?: (publicKey: string) => Route | undefined;
  advise?: RefusalAdvice;
  /**
   * For a peer the engine has no packet from: how long ago this node heard
   * of it otherwise (a LAN announcement, a refused handshake, or when it was
   * paired or pinned), so a paired peer always has a last_seen.
   */
  heardMsAgo?: (publicKey: string) => number | undefined;
}

export function peerViews(statuses: readonly PeerStatus[], config: Config, failures: ReadonlyMap<string, PairFailure>, sources: ViewSources = {}): PeerView[] {
  const { route = () => undefined, advise = () => ({ conflictsWith: null, hint: '' }), heardMsAgo = () => undefined } = sources;
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
      state: viewState(s, failure),
      path: s.via === undefined ? 'direct' : `via ${shortId(nodeIdFromPublicKey(Buffer.from(s.via, 'hex')))}`,
      routeHops: route(s.publicKey)?.hops ?? 1,
      lastHandshakeS: seconds(s.lastHandshakeMs),
      lastSeenS: seconds(s.lastReceivedMs ?? heardMsAgo(s.publicKey)),
      rxBytes: s.rxBytes,
      txBytes: s.txBytes,
      latencyMs: s.rttMs === undefined ? null : Math.round(s.rttMs * 10) / 10,
      isGateway: route(s.publicKey)?.roles.includes('gateway') ?? false,
      isStatic: labels.has(s.publicKey),
      lastError: s.state === 'active' ? null : (failure?.reason ?? null),
      ...advice(s, nodeId, failure, advise),
    };
  });
}

function advice(s: PeerStatus, nodeId: string, failure: PairFailure | undefined, advise: RefusalAdvice): { conflictsWith: string | null; hint: string | null } {
  if (s.state === 'active' || failure?.reason !== 'untrusted peer ID') return { conflictsWith: null, hint: null };
  return advise({ nodeId, endpoint: s.endpoint ?? null });
}
