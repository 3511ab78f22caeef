// Structured JSON-line logs (pino). Fields come from a fixed vocabulary so
// tests and log tools can parse them: `event` (what happened, snake_case),
// `peer_id` (node_id), `endpoint`, `reason`, `err`. Key material is redacted
// by construction, whatever a call site passes. Every line also goes to the
// in-memory history that `logs.subscribe` replays.

import pino from 'pino';
import type { LogLevel } from '../config/schema.js';
import { LogHistory } from './history.js';

export type Logger = pino.Logger;

const REDACT = ['private_key', 'privateKey', '*.private_key', '*.privateKey', 'key', '*.key'];

export function createLogger(
  level: LogLevel,
  destination: pino.DestinationStream = pino.destination({ sync: true }),
  history: LogHistory = new LogHistory(),
): Logger {
  return pino(
    {
      level,
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
