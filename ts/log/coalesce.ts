// Repeated identical log lines are coalesced with a count: a peer refused
// every second would otherwise fill the log with one WARN a second forever.
// A line is written in full the first few times in a window (a reload done
// twice is two lines), then counted; at the window's end each counted line is
// written once more with the count, and while it keeps repeating only that
// report is written, once a window. A line that stopped repeating is forgotten.

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
/** How often a line is written in full in one window before it is counted instead. */
export const BURST = 3;

interface Seen {
  /** Written in full this window. */
  written: number;
  /** Counted instead of written this window. */
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

  /** True when the line is to be written now; false when it is counted instead. */
  admit(key: string, report: (repeats: number) => void): boolean {
    const seen = this.seen.get(key);
    if (seen === undefined) {
      if (this.seen.size >= MAX_TRACKED) return true;
      this.seen.set(key, { written: 1, repeats: 0, report });
      this.stop ??= this.ticker.every(this.windowMs, () => this.tick());
      return true;
    }
    if (seen.written < BURST) {
      seen.written++;
      return true;
    }
    seen.repeats++;
    seen.report = report;
    return false;
  }

  private tick(): void {
    for (const [key, seen] of this.seen) {
      if (seen.repeats === 0) {
        this.seen.delete(key);
        continue;
      }
      const repeats = seen.repeats;
      // Still repeating: the next window writes only its report.
      seen.repeats = 0;
      seen.written = BURST;
      seen.report(repeats);
    }
    if (this.seen.size === 0) {
      this.stop?.();
      this.stop = undefined;
    }
  }
}
