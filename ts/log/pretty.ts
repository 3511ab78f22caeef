// Log lines for people: "2026-11-30T12:00:00.000Z WARN  [ab12cd34] pairing
// failed: timeout", the level coloured on a terminal. `pim logs` prints the
// daemon's entries this way, and a foreground `pim up` its own log when its
// stdout is a terminal (JSON lines otherwise, for tools and the journal).

import { toEntry, type LogEntry } from './history.js';

const COLOURS: Record<string, string> = { trace: '2', debug: '2', info: '32', warn: '33', error: '31', fatal: '1;31' };

/** Colour when writing to a terminal, unless NO_COLOR asks not to (https://no-color.org). */
export function wantsColour(stream: { isTTY?: boolean }): boolean {
  return stream.isTTY === true && (process.env['NO_COLOR'] ?? '') === '';
}

export function formatEntry(e: Pick<LogEntry, 'ts' | 'level' | 'message' | 'peer_id'>, colour: boolean): string {
  const level = e.level.toUpperCase().padEnd(5);
  const code = COLOURS[e.level];
  const shown = colour && code !== undefined ? `\x1b[${code}m${level}\x1b[0m` : level;
  const peer = e.peer_id ? ` [${e.peer_id.slice(0, 8)}]` : '';
  return `${e.ts} ${shown}${peer} ${e.message}\n`;
}

/** A pino destination that writes each JSON line as a readable one. */
export function prettyDestination(out: NodeJS.WritableStream & { isTTY?: boolean }): { write(chunk: string): void } {
  const colour = wantsColour(out);
  return {
    write(chunk) {
      for (const text of chunk.split('\n')) {
        if (text.trim() === '') continue;
        try {
          out.write(formatEntry(toEntry(JSON.parse(text) as Record<string, unknown>), colour));
        } catch {
          out.write(`${text}\n`);
        }
      }
    },
  };
}
