// The last pairing failure per peer, with the exact reason strings of the
// security model, so `pim peers` can say why a peer is not connected.
// Bounded: keys an attacker makes up cannot grow it without limit.

export const PAIR_FAILED_REASONS = ['untrusted peer ID', 'noise handshake rejected', 'timeout'] as const;
export type PairFailedReason = (typeof PAIR_FAILED_REASONS)[number];

export interface PairFailure {
  reason: PairFailedReason;
  at: Date;
}

const MAX_FAILURES = 256;

export class PairFailures {
  private readonly byKey = new Map<string, PairFailure>();

  record(publicKey: string, reason: PairFailedReason, at: Date): void {
    this.byKey.delete(publicKey);
    this.byKey.set(publicKey, { reason, at });
    if (this.byKey.size > MAX_FAILURES) this.byKey.delete(this.byKey.keys().next().value!);
  }

  clear(publicKey: string): void {
    this.byKey.delete(publicKey);
  }

  get all(): ReadonlyMap<string, PairFailure> {
    return this.byKey;
  }
}
