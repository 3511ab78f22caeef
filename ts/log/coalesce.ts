// Repeated identical log lines are logged once, then counted: a peer refused
// every second would otherwise fill the log with one WARN a second forever.
// Each window, every line that repeated is logged once more with the count;
// a line that stopped repeating is forgotten and logs in full next time.

export interface Ticker {
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

const realTicker: Ticker = {
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    // Counting repeats must never keep the daemon alive.
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** Bounds memory if many distinct lines arrive in one window: beyond it, lines are not coalesced. */
const MAX_TRACKED = 1000;

interface Seen {
  repeats: number;
  /** Logs the line once more, saying how often it repeated. */
  report: (repeats: number) => void;
}

export class RepeatCoalescer {
  private readonly seen = new Map<string, Seen>();
  private stop: (() => void) | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly ticker: Ticker = realTicker,
  ) {}

  /** True when the line is to be logged now; false when it repeats one logged in this window (it is counted). */
  admit(key: string, report: (repeats: number) => void): boolean {
    const seen = this.seen.get(key);
    if (seen !== undefined) {
      seen.repeats++;
      seen.report = report;
      return false;
    }
    if (this.seen.size >= MAX_TRACKED) return true;
    this.seen.set(key, { repeats: 0, report });
    this.stop ??= this.ticker.every(this.windowMs, () => this.tick());
    return true;
  }

  private tick(): void {
    for (const [key, seen] of this.seen) {
      if (seen.repeats === 0) {
        this.seen.delete(key);
        continue;
      }
      const repeats = seen.repeats;
      seen.repeats = 0;
      seen.report(repeats);
    }
    if (this.seen.size === 0) {
      this.stop?.();
      this.stop = undefined;
    }
  }
}
