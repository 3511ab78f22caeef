// OS changes one after another: a periodic update that started before a
// `route off` or `gateway disable` must finish before it, never after (it
// would re-install what the user just removed).

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `change` after every change queued before it; its own failure is its caller's. */
  run(change: () => Promise<void>): Promise<void> {
    const run = this.tail.then(change);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Settles when every change queued so far has. */
  idle(): Promise<void> {
    return this.tail;
  }
}
