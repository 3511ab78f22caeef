// `pim watch` on a terminal: the alternate screen, redrawn in place on every
// poll and every event, q or Ctrl-C to quit. The terminal is given back as it
// was (main screen, cursor, cooked input) however the watch ends.

import { wantsColour } from '../../log/pretty.js';
import type { RpcClient } from '../../rpc/client.js';
import { renderFrame } from './frame.js';
import type { WatchModel } from './model.js';

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

export function watchOnTerminal(client: RpcClient, model: WatchModel, poll: () => Promise<void>, intervalMs: number): Promise<number> {
  const out = process.stdout;
  const input = process.stdin;
  const colour = wantsColour(out);
  return new Promise((resolve) => {
    let finished = false;
    const draw = (): void => {
      if (finished) return;
      const lines = renderFrame(model, { width: out.columns || 80, height: out.rows || 24, colour });
      // Home, each line then clear to its end, clear below: no flicker, no scrolling.
      out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\x1b[J`);
    };
    const finish = (code: number, message?: string): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      input.setRawMode(false);
      input.pause();
      out.off('resize', draw);
      out.write(LEAVE);
      if (message !== undefined) process.stderr.write(`pim: ${message}\n`);
      void client.close().then(() => resolve(code));
    };
    out.write(ENTER);
    input.setRawMode(true);
    input.resume();
    // Raw input: Ctrl-C arrives as a byte, not as SIGINT.
    input.on('data', (data: Buffer) => {
      if (data.includes(0x71) || data.includes(0x51) || data.includes(0x03)) finish(0);
    });
    process.once('SIGTERM', () => finish(0));
    out.on('resize', draw);
    client.onNotification((method, params) => {
      if (method === 'logs.event') return;
      model.addEvent(method, params as Record<string, unknown>);
      draw();
    });
    const timer = setInterval(() => void poll().then(draw, () => undefined), intervalMs);
    void client.whenClosed().then(() => finish(1, 'the daemon closed the connection'));
    draw();
  });
}
