// Repeated identical log lines are logged once and then counted: the
// coalescer's windows (with a hand-driven clock), the logger that uses it,
// and the daemon whose refused peer used to log a WARN every time.

import test from 'ava';
import * as fs from 'node:fs';
import { identityFromPrivateKey } from '../ts/identity/identity.js';
import { generatePrivateKey } from '../ts/identity/keys.js';
import { BURST, RepeatCoalescer, type Ticker } from '../ts/log/coalesce.js';
import { createLogger, withRepeats } from '../ts/log/logger.js';
import { testConfigText } from './helpers/config.js';
import { eventually, startTestDaemon } from './helpers/daemon.js';

/** A ticker the test drives: tick() runs the window's end. */
function manualTicker(): Ticker & { tick(): void; running: boolean } {
  let current: (() => void) | undefined;
  return {
    every(_ms, tick) {
      current = tick;
      return () => (current = undefined);
    },
    tick() {
      current?.();
    },
    get running() {
      return current !== undefined;
    },
  };
}

test('a line is written in full BURST times, then counted, reported once per window with its count, and forgotten when it stops', (t) => {
  const ticker = manualTicker();
  const c = new RepeatCoalescer(60_000, ticker);
  const reports: number[] = [];
  const admit = (): boolean => c.admit('warn refused', (n) => reports.push(n));
  t.is(BURST, 3);
  t.deepEqual([admit(), admit(), admit(), admit(), admit()], [true, true, true, false, false]);
  ticker.tick();
  t.deepEqual(reports, [2]);
  t.false(admit(), 'still repeating: the next window writes only its report');
  ticker.tick();
  t.deepEqual(reports, [2, 1]);
  ticker.tick();
  t.deepEqual(reports, [2, 1], 'a window without repeats reports nothing');
  t.false(ticker.running, 'nothing tracked, no timer');
  t.true(admit(), 'after a quiet window the line is written in full again');
});

test('a line written a few times in a window is never reported as repeated', (t) => {
  const ticker = manualTicker();
  const c = new RepeatCoalescer(60_000, ticker);
  const reports: number[] = [];
  t.deepEqual([1, 2].map(() => c.admit('info reloaded', (n) => reports.push(n))), [true, true]);
  ticker.tick();
  t.deepEqual(reports, []);
});

test('distinct lines are coalesced each on its own', (t) => {
  const ticker = manualTicker();
  const c = new RepeatCoalescer(60_000, ticker);
  const reports: string[] = [];
  const admit = (key: string): boolean => c.admit(key, (n) => reports.push(`${key}×${n}`));
  const keys = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'c', 'a', 'b'];
  t.deepEqual(keys.map(admit), [true, true, true, true, true, true, false, true, false, false]);
  ticker.tick();
  t.deepEqual(reports.sort(), ['a×2', 'b×1']);
});

test('the report is the same line with repeated: N and the count in its message', (t) => {
  t.deepEqual(withRepeats([{ event: 'pair_failed', peer_id: 'ab' }, 'pairing failed: timeout'], 59), [
    { event: 'pair_failed', peer_id: 'ab', repeated: 59 },
    'pairing failed: timeout (repeated 59 more times)',
  ]);
  t.deepEqual(withRepeats(['started'], 1), [{ repeated: 1 }, 'started (repeated 1 more time)']);
});

test('the logger writes a line repeated a hundred times BURST times, and other lines as they come', (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  for (let i = 0; i < 100; i++) {
    logger.warn({ event: 'pair_failed', peer_id: 'ab' }, 'pairing failed: untrusted peer ID');
    logger.info({ event: 'tick', n: i }, 'a line that differs each time');
  }
  t.is(lines.filter((l) => l.msg === 'pairing failed: untrusted peer ID').length, BURST);
  t.is(lines.filter((l) => l.event === 'tick').length, 100);
  logger.warn({ event: 'pair_failed', peer_id: 'cd' }, 'pairing failed: untrusted peer ID');
  t.is(lines.filter((l) => l.msg === 'pairing failed: untrusted peer ID').length, BURST + 1, 'another peer is another line');
});

test('a refused peer that keeps knocking is logged BURST times, not once per attempt', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const d = await startTestDaemon(t, {
    tmpPrefix: 'pim-log-coalesce-',
    writeConfig: (dir, file) => fs.writeFileSync(file, testConfigText(dir, { name: 'coalesce-test' })),
    clientName: 'log-coalesce-test',
    onLog: (l) => lines.push(l),
  });
  const stranger = identityFromPrivateKey(generatePrivateKey());
  const refused = (): Record<string, unknown>[] => lines.filter((l) => l.event === 'pair_failed');
  for (let i = 0; i < 20; i++) d.fake.emit({ kind: 'untrusted', publicKey: stranger.publicKeyHex, source: '192.0.2.9:9100' });
  await eventually(t, 'the refusal to be logged', () => refused().length > 0);
  t.is(refused().length, BURST, JSON.stringify(refused()));
});
