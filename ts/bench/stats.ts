// Medians, ranges and ratios over the benchmark's samples. Pure: the report
// and the unit tests use the same functions.

import { applies, METRICS, RATIO_PAIRS, type SystemId } from './metrics.js';

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many runs gave a number (a failed workload gives none). */
  n: number;
}

/** One run of one system: a value per metric id, null when the workload failed or does not apply. */
export type Samples = Record<string, number | null>;

export interface RunRecord {
  run: number;
  system: SystemId;
  samples: Samples;
}

/** null for not applicable; a Summary with n = 0 cannot happen: no numbers gives `missing`. */
export type Cell = Summary | 'n/a' | 'missing';

export type SummaryTable = Partial<Record<SystemId, Record<string, Cell>>>;

export interface Ratio {
  metric: string;
  numerator: SystemId;
  denominator: SystemId;
  ratio: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min and max of the finite numbers among `values`; undefined if there are none. */
export function summarize(values: ReadonlyArray<number | null | undefined>): Summary | undefined {
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (nums.length === 0) return undefined;
  return { median: median(nums), min: Math.min(...nums), max: Math.max(...nums), n: nums.length };
}

/** Every system × metric of `systems`, over all runs of that system. */
export function summarizeRuns(systems: readonly SystemId[], runs: readonly RunRecord[]): SummaryTable {
  const table: SummaryTable = {};
  for (const system of systems) {
    const mine = runs.filter((r) => r.system === system);
    const row: Record<string, Cell> = {};
    for (const metric of METRICS) {
      if (!applies(metric, system)) {
        row[metric.id] = 'n/a';
        continue;
      }
      row[metric.id] = summarize(mine.map((r) => r.samples[metric.id])) ?? 'missing';
    }
    table[system] = row;
  }
  return table;
}

export function medianOf(table: SummaryTable, system: SystemId, metric: string): number | undefined {
  const cell = table[system]?.[metric];
  return typeof cell === 'object' ? cell.median : undefined;
}

/** numerator / denominator of the medians, for every pair and metric where both exist and the denominator is not 0. */
export function ratios(table: SummaryTable, pairs = RATIO_PAIRS): Ratio[] {
  const out: Ratio[] = [];
  for (const metric of METRICS) {
    for (const [numerator, denominator] of pairs) {
      const a = medianOf(table, numerator, metric.id);
      const b = medianOf(table, denominator, metric.id);
      if (a === undefined || b === undefined || b === 0) continue;
      out.push({ metric: metric.id, numerator, denominator, ratio: a / b });
    }
  }
  return out;
}

/** Rounds for display: 3 significant digits below 100, whole numbers above. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toString();
  if (abs === 0) return '0';
  return Number(value.toPrecision(3)).toString();
}
