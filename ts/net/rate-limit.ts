// Token buckets per source, for what another machine can send us at will
// (discovery announcements): `perSec` sustained, bursts up to `burst`, for
// at most `maxSources` sources. A source whose bucket has refilled is
// forgotten first; while every remembered source is busy, a new one is
// refused, so the table itself cannot be flooded. Clock passed in.

export interface Rate {
  perSec: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: Rate,
    private readonly maxSources: number,
  ) {}

  private refill(b: Bucket, now: number): void {
    b.tokens = Math.min(this.rate.burst, b.tokens + ((now - b.at) / 1000) * this.rate.perSec);
    b.at = now;
  }

  /** Takes one of `source`'s tokens; false when they are spent or no room is left for a new source. */
  take(source: string, now: number): boolean {
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= this.maxSources) this.forgetIdle(now);
      if (this.buckets.size >= this.maxSources) return false;
      b = { tokens: this.rate.burst, at: now };
      this.buckets.set(source, b);
    }
    this.refill(b, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private forgetIdle(now: number): void {
    for (const [source, b] of this.buckets) {
      this.refill(b, now);
      if (b.tokens >= this.rate.burst) this.buckets.delete(source);
    }
  }
}
