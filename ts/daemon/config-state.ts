// The running config: one immutable value, replaced whole (never edited in
// place), and the config file's edits, which run one at a time so a save, a
// peer edit and a persisted switch never interleave.

import * as fs from 'node:fs';
import { setKey } from '../config/edit.js';
import type { PathEnv } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { writeFileAtomic } from '../fs/atomic.js';

/** A setting the daemon changes itself (`pim route on`, `pim gateway enable`). */
export type PersistedEdit = readonly [table: 'route' | 'gateway', key: string, value: boolean | string | null];

export class ConfigState {
  private editing: Promise<unknown> = Promise.resolve();

  constructor(
    private config: Config,
    readonly path: string,
    readonly pathEnv: PathEnv,
  ) {}

  get current(): Config {
    return this.config;
  }

  replace(next: Config): void {
    this.config = next;
  }

  /** Edits of the config file run one at a time, in order. */
  edit<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.editing.then(fn);
    this.editing = run.catch(() => undefined);
    return run;
  }

  /** Records switches in the file (atomically, the rest of the file kept) and in the running config. */
  persist(edits: readonly PersistedEdit[]): Promise<void> {
    return this.edit(async () => {
      let text = await fs.promises.readFile(this.path, 'utf8');
      let next = this.config;
      for (const [table, key, value] of edits) {
        text = setKey(text, table, key, value);
        next = { ...next, [table]: { ...next[table], [key]: value } };
      }
      await writeFileAtomic(this.path, text, fs.statSync(this.path).mode & 0o777);
      this.config = next;
    });
  }
}
