// `peers.ping`: one latency probe through the tunnel, answered when the
// engine reports its reply or when the wait runs out. Probes of the same
// peer in flight at once share the reply.

export interface ProbeEngine {
  /** Sends one probe; false when the peer has no session. */
  probe(publicKey: string): boolean;
}

type Waiter = (rttMs: number | null) => void;

export class Probes {
  private readonly waiting = new Map<string, Set<Waiter>>();

  constructor(private readonly engine: ProbeEngine) {}

  /** The round trip in ms, or null when no reply came within `timeoutMs` (or there is no session). */
  ping(publicKey: string, timeoutMs: number): Promise<number | null> {
    if (!this.engine.probe(publicKey)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiters = this.waiting.get(publicKey) ?? new Set<Waiter>();
      this.waiting.set(publicKey, waiters);
      const done: Waiter = (rtt) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiting.delete(publicKey);
        resolve(rtt);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      waiters.add(done);
    });
  }

  /** The engine reported a probe reply. */
  reply(publicKey: string, rttMs: number): void {
    for (const done of [...(this.waiting.get(publicKey) ?? [])]) done(rttMs);
  }
}
