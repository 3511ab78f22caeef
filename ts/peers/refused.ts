// Peers whose handshakes this node refused as untrusted: their key and where
// they came from, so `pim peers` can list them and `pim peers pair` can
// trust one. Bounded, oldest first out: anyone can make up keys.

export interface RefusedAttempt {
  publicKey: string;
  source: string;
  at: Date;
}

const MAX_REFUSED = 64;

export class RefusedAttempts {
  private readonly byKey = new Map<string, RefusedAttempt>();

  record(publicKey: string, source: string, at: Date): void {
    this.byKey.delete(publicKey);
    this.byKey.set(publicKey, { publicKey, source, at });
    if (this.byKey.size > MAX_REFUSED) this.byKey.delete(this.byKey.keys().next().value!);
  }

  forget(publicKey: string): void {
    this.byKey.delete(publicKey);
  }

  get all(): RefusedAttempt[] {
    return [...this.byKey.values()];
  }
}
