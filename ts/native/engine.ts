// The one typed boundary between the control plane and the Rust data plane.
// Everything in ts/ depends on this interface; only binding.ts loads the
// addon, and fake-engine.ts stands in for it in tests that need no root.

export interface EngineOptions {
  /** Raw 32-byte X25519 private key. */
  privateKey: Buffer;
  tunName: string;
  mtu: number;
  bindAddress: string;
  listenPort: number;
  /** SO_MARK on the UDP socket (0 = none): policy routing keeps it off the tunnel. */
  fwmark: number;
}

export interface SnapshotPeer {
  publicKey: string;
  meshIp: string;
  /** Resolved "ip:port" of a neighbour, or undefined when only the peer can dial us. */
  endpoint?: string;
  /** Public key of the next hop, for a peer reached through relays. */
  via?: string;
  /** Keep a session up: handshake at start and redial when down. */
  persistent: boolean;
}

export interface EngineSnapshot {
  /** Strictly increasing; a stale or repeated version is refused (snapshot_stale). */
  version: number;
  meshIp: string;
  meshPrefix: string;
  peers: SnapshotPeer[];
  trustMode: 'tofu' | 'allow_list' | 'allow_all';
  /** node_ids the user trusts explicitly: configured [[peers]], paired peers, [trust] allow_list.
   *  In allow_list mode the only node_ids admitted; in tofu mode they may roam freely. */
  explicit: string[];
  /** TOFU pins: the node_id first trusted at each underlay IP address (no port). */
  pins: { ip: string; nodeId: string }[];
  /** Public key of the selected gateway (always an explicit peer): where non-mesh traffic goes. */
  internetVia?: string;
  /** This node is a gateway: peers' non-mesh traffic goes to the OS. */
  gateway: boolean;
  /** On a gateway: destinations (CIDRs) mesh traffic is never forwarded to. */
  gatewayBlocked: string[];
  /** `[gateway] allow_lan`: explicitly trusted peers may reach `gatewayBlocked`; admitted ones never do. */
  gatewayLanExplicit: boolean;
  /** Where relay envelopes for other nodes go next: destination node_id → neighbour key. */
  relays: { nodeId: string; via: string }[];
}

export type EngineEvent =
  | { kind: 'connected'; publicKey: string; endpoint: string; meshIp: string }
  | { kind: 'disconnected'; publicKey: string }
  | { kind: 'handshake_timeout'; publicKey: string }
  | { kind: 'endpoint_changed'; publicKey: string; endpoint: string }
  | { kind: 'handshake_rejected'; source: string }
  | { kind: 'untrusted'; publicKey: string; source: string }
  | { kind: 'revoked'; publicKey: string }
  | { kind: 'mesh_ip_conflict'; publicKey: string; meshIp: string }
  | { kind: 'control'; publicKey: string; payload: Buffer }
  /** The reply to a probe asked for with `probe()`. */
  | { kind: 'probe_reply'; publicKey: string; rttMs: number }
  /** A bound the engine keeps against floods refused something (limit: 'dynamic_peers'). */
  | { kind: 'limit_reached'; limit: string; detail: string }
  /** A data-plane thread failed or panicked: the engine cannot go on. */
  | { kind: 'fault'; message: string };

export type PeerState = 'active' | 'connecting' | 'failed';

export interface PeerStatus {
  publicKey: string;
  meshIp: string;
  /** ip:port of a neighbour. */
  endpoint?: string;
  /** Public key of the next hop, for a peer reached through relays. */
  via?: string;
  state: PeerState;
  /** Listed in the snapshot (a static peer); otherwise it dialled in. */
  configured: boolean;
  lastHandshakeMs?: number;
  lastReceivedMs?: number;
  rttMs?: number;
  rxBytes: number;
  txBytes: number;
  /** Bytes the peer sent through this node to the internet (we are its gateway); absent = 0. */
  gatewayBytes?: number;
}

export interface Engine {
  /** Creates the TUN device, binds UDP, starts the data-plane threads. */
  start(options: EngineOptions, snapshot: EngineSnapshot, onEvent: (event: EngineEvent) => void): void;
  /** Applies a newer snapshot whole, or throws and changes nothing. */
  applySnapshot(snapshot: EngineSnapshot): void;
  /** The version of the snapshot in force (0 before start). */
  appliedVersion(): number;
  forgetPeer(publicKey: string): boolean;
  /** Sends an advertisement over the peer's session; false when it has none. */
  sendControl(publicKey: string, payload: Buffer): boolean;
  /** Sends one latency probe now; its reply arrives as `probe_reply`. False when the peer has no session. */
  probe(publicKey: string): boolean;
  /** Joins every data-plane thread and removes the TUN device. */
  stop(): void;
  localPort(): number;
  /** Every engine counter by name (native/src/stats.rs). */
  stats(): Record<string, number>;
  peers(): PeerStatus[];
}
