// Human-readable renderings for the CLI. Machine consumers use --json, which
// carries the raw numbers; nothing here is meant to be parsed back.

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1024-based: "512 B", "1.0 KiB", "12.3 MiB". */
export function formatBytes(n: number): string {
  // Counters come from the daemon; a bad value should not abort a whole listing.
  if (!Number.isFinite(n) || n < 0) return '-';
  if (n < 1024) return `${Math.floor(n)} B`;
  let value = n / 1024;
  let unit = 0;
  // Compare the rounded value so 1048575 B shows as "1.0 MiB", not "1024.0 KiB".
  while (Number(value.toFixed(1)) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** How long ago something happened: "14s ago", "3m 5s ago"; null is "never". */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return 'never';
  // A slightly negative age is clock skew between stamps, not the future.
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  return `${twoUnits(s)} ago`;
}

// The two most significant units are enough to tell how stale something is.
function twoUnits(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}

/** An uptime: "45s", "1h 2m 3s", "2d 0h 5m 1s". */
export function formatDuration(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ] as const;
  const first = parts.findIndex(([value]) => value > 0);
  return parts
    .slice(first < 0 ? parts.length - 1 : first)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/** "1.2 ms", or "-" when there is no measurement yet. */
export function formatLatency(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '-';
  return `${ms.toFixed(1)} ms`;
}

/**
 * Aligned columns, two spaces apart, headers printed as given, no trailing
 * spaces, no final newline. Cells are made safe for a terminal first.
 */
export function renderTable(headers: string[], rows: string[][]): string {
  const lines = [headers, ...rows].map((row) => {
    if (row.length > headers.length) {
      throw new RangeError(`table row has ${row.length} cells but there are ${headers.length} columns`);
    }
    return headers.map((_, i) => sanitizeForTerminal(row[i] ?? ''));
  });
  const widths = headers.map((_, i) => Math.max(...lines.map((cells) => displayWidth(cells[i]!))));
  return lines
    .map((cells) => cells.map((cell, i) => cell + ' '.repeat(widths[i]! - displayWidth(cell))).join('  ').trimEnd())
    .join('\n');
}

/**
 * Replaces control and bidi-override characters with "?". Labels and names
 * are announced by other nodes; printed raw, an escape sequence in one could
 * rewrite the user's terminal, a newline would break the table, and a
 * right-to-left override could make one id look like another.
 */
export function sanitizeForTerminal(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

// Code points, not UTF-16 units, so a character outside the BMP counts once.
// Wide CJK and emoji still take two columns; labels rarely use them, and
// measuring that properly needs a Unicode width table.
function displayWidth(s: string): number {
  return [...s].length;
}
