// Structured JSON-line logs (pino). Fields come from a fixed vocabulary so
// tests and log tools can parse them: `event` (what happened, snake_case),
// `peer_id` (node_id), `endpoint`, `reason`, `err`. Key material is redacted
// by construction, whatever a call site passes. Every line also goes to the
// in-memory history that `logs.subscribe` replays. A line repeated more than
// three times in a minute is counted, then written once a minute with
// `repeated: N` (coalesce.ts).

import pino from 'pino';
import type { LogLevel } from '../config/schema.js';
import { RepeatCoalescer } from './coalesce.js';
import { LogHistory } from './history.js';

export type Logger = pino.Logger;

const REDACT = ['private_key', 'privateKey', '*.private_key', '*.privateKey', 'key', '*.key'];
const REPEAT_WINDOW_MS = 60_000;

/** The same call with `repeated: N` added and the count in the message. */
export function withRepeats(args: unknown[], repeats: number): unknown[] {
  const note = `(repeated ${repeats} more time${repeats === 1 ? '' : 's'})`;
  const [first, ...rest] = args;
  if (typeof first === 'object' && first !== null && !(first instanceof Error)) {
    return [{ ...first, repeated: repeats }, ...(rest.length > 0 ? [`${String(rest[0])} ${note}`, ...rest.slice(1)] : [note])];
  }
  return [{ repeated: repeats }, `${String(first)} ${note}`, ...rest];
}

function repeatKey(level: number, bindings: unknown, args: unknown[]): string | undefined {
  try {
    return JSON.stringify([level, bindings, args]);
  } catch {
    return undefined; // something JSON cannot hold (a cycle, a bigint): log it as it is
  }
}

export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination({ sync: true }),
  history: LogHistory = new LogHistory(),
): Logger {
  const repeats = new RepeatCoalescer(REPEAT_WINDOW_MS);
  return pino(
    {
      level,
      hooks: {
        logMethod(args, method, levelValue) {
          const key = repeatKey(levelValue, this.bindings(), args);
          const log = (a: unknown[]): void => (method as (...a: unknown[]) => void).apply(this, a);
          if (key === undefined || repeats.admit(key, (n) => log(withRepeats(args, n)))) log(args);
        },
      },
      base: { source: 'pim-daemon' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.multistream([
      { stream: destination, level: 'trace' },
      { stream: history, level: 'trace' },
    ]),
  );
}
