// The recent log lines, kept in memory for `logs.subscribe` (history first,
// then live) and `pim logs`. Bounded: the oldest lines go first.

import { Writable } from 'node:stream';

export interface LogEntry {
  ts: string;
  level: string;
  source: string;
  message: string;
  peer_id?: string;
  fields?: Record<string, unknown>;
}

const MAX_ENTRIES = 1000;
const OWN_FIELDS = new Set(['time', 'level', 'source', 'msg', 'peer_id', 'pid', 'hostname']);

export function toEntry(line: Record<string, unknown>): LogEntry {
  const fields = Object.fromEntries(Object.entries(line).filter(([k]) => !OWN_FIELDS.has(k)));
  return {
    ts: String(line.time ?? new Date().toISOString()),
    level: String(line.level ?? 'info'),
    source: String(line.source ?? 'pim-daemon'),
    message: String(line.msg ?? ''),
    ...(typeof line.peer_id === 'string' ? { peer_id: line.peer_id } : {}),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

export class LogHistory extends Writable {
  private readonly entries: LogEntry[] = [];
  private readonly subscribers = new Set<(e: LogEntry) => void>();

  constructor() {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    for (const text of chunk.toString().split('\n')) {
      if (text.trim() === '') continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue; // pino writes JSON; anything else is not a log line
      }
      const entry = toEntry(line);
      this.entries.push(entry);
      if (this.entries.length > MAX_ENTRIES) this.entries.shift();
      for (const l of this.subscribers) l(entry);
    }
    done();
  }

  get recent(): readonly LogEntry[] {
    return this.entries;
  }

  onEntry(listener: (e: LogEntry) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }
}
