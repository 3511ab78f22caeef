// An in-memory Engine for control-plane tests that run without root: it
// keeps the peers of the last snapshot and lets a test play the data plane
// (report events, change peer state) through `emit` and `setPeer`.

import type { Engine, EngineEvent, EngineOptions, EngineSnapshot, PeerStatus } from './engine.js';

export class FakeEngine implements Engine {
  options: EngineOptions | undefined;
  snapshot: EngineSnapshot | undefined;
  private onEvent: ((e: EngineEvent) => void) | undefined;
  private readonly peerTable = new Map<string, PeerStatus>();
  private readonly counters: Record<string, number> = { tx_packets: 0, rx_packets: 0, tx_bytes: 0, rx_bytes: 0 };

  start(options: EngineOptions, snapshot: EngineSnapshot, onEvent: (event: EngineEvent) => void): void {
    if (this.onEvent) throw new Error('the engine is already running');
    this.options = options;
    this.onEvent = onEvent;
    this.applySnapshot(snapshot);
  }

  applySnapshot(snapshot: EngineSnapshot): void {
    if (this.snapshot && snapshot.version <= this.snapshot.version) {
      throw new Error(`snapshot version ${snapshot.version} is not newer than the applied version ${this.snapshot.version}`);
    }
    this.snapshot = snapshot;
    for (const [key, p] of this.peerTable) {
      if (p.configured && !snapshot.peers.some((s) => s.publicKey === key)) this.peerTable.delete(key);
    }
    for (const s of snapshot.peers) {
      if (this.peerTable.get(s.publicKey)?.configured) continue;
      this.peerTable.set(s.publicKey, {
        publicKey: s.publicKey,
        meshIp: s.meshIp,
        ...(s.endpoint === undefined ? {} : { endpoint: s.endpoint }),
        state: 'connecting',
        configured: true,
        rxBytes: 0,
        txBytes: 0,
        gatewayBytes: 0,
      });
    }
  }

  appliedVersion(): number {
    return this.snapshot?.version ?? 0;
  }

  forgetPeer(publicKey: string): boolean {
    return this.peerTable.delete(publicKey);
  }

  /** What was sent with sendControl, for tests to inspect. */
  readonly sentControl: { publicKey: string; payload: Buffer }[] = [];

  sendControl(publicKey: string, payload: Buffer): boolean {
    if (this.peerTable.get(publicKey)?.state !== 'active') return false;
    this.sentControl.push({ publicKey, payload });
    return true;
  }

  /** What was probed, for tests to inspect (a test answers with emit()). */
  readonly probed: string[] = [];

  probe(publicKey: string): boolean {
    if (this.peerTable.get(publicKey)?.state !== 'active') return false;
    this.probed.push(publicKey);
    return true;
  }

  stop(): void {
    this.onEvent = undefined;
  }

  get running(): boolean {
    return this.onEvent !== undefined;
  }

  localPort(): number {
    return this.options?.listenPort ?? 0;
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  peers(): PeerStatus[] {
    return [...this.peerTable.values()].map((p) => ({ ...p }));
  }

  /** Test hook: the data plane reports an event. */
  emit(event: EngineEvent): void {
    if (!this.onEvent) throw new Error('the engine is not running');
    this.onEvent(event);
  }

  /** Test hook: the data plane's view of a peer changes. */
  setPeer(status: PeerStatus): void {
    this.peerTable.set(status.publicKey, status);
  }
}
