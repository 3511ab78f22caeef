// Which log lines a `logs.subscribe` wants: `levels` (exactly these), else
// `min_level` (this one and above), and `sources` (a source starting with
// one of these; none or empty: every source). pim-ui's semantics.

import { PimError } from '../errors.js';
import { WIRE_LOG_LEVELS, type WireLogLevel } from './wire.js';

export interface LogFilterParams {
  minLevel?: string;
  levels?: unknown[];
  sources?: unknown[];
}

function level(value: unknown, param: string): WireLogLevel {
  if (typeof value === 'string' && (WIRE_LOG_LEVELS as readonly string[]).includes(value)) return value as WireLogLevel;
  throw new PimError('invalid_params', `invalid params: '${param}' must name a level: ${WIRE_LOG_LEVELS.join(', ')}`);
}

/** The filter these params ask for; -32602 naming the wire param for a value it cannot be. */
export function logFilter(p: LogFilterParams): (e: { level: string; source: string }) => boolean {
  const levels = new Set((p.levels ?? []).map((l) => level(l, 'levels')));
  const min = WIRE_LOG_LEVELS.indexOf(level(p.minLevel ?? 'trace', 'min_level'));
  const sources = (p.sources ?? []).map((s) => {
    if (typeof s !== 'string') throw new PimError('invalid_params', "invalid params: 'sources' must be an array of strings");
    return s;
  });
  const levelOk = levels.size > 0 ? (l: string): boolean => levels.has(l as WireLogLevel) : (l: string): boolean => WIRE_LOG_LEVELS.indexOf(l as WireLogLevel) >= min;
  return (e) => levelOk(e.level) && (sources.length === 0 || sources.some((s) => e.source.startsWith(s)));
}
