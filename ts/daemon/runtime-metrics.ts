// How the daemon's own process is doing: the Node event-loop delay (a
// stalled loop would mean slow control-socket answers) and memory. The
// benchmark reads these through `daemon.metrics` to show the data plane
// never blocks JavaScript.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface RuntimeMetrics {
  event_loop_delay_p50_ms: number;
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
  rss_bytes: number;
  heap_used_bytes: number;
}

const RESOLUTION_MS = 10;
// The histogram records the whole time between its RESOLUTION_MS timer ticks
// (an idle loop reads ~10 ms), so the delay is what exceeds the tick.
const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 1000) / 1000);

export class RuntimeMonitor {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.loop.enable();
  }

  /** Since the last reset (or start); `reset` starts a new measurement window. */
  read(reset: boolean): RuntimeMetrics {
    const mem = process.memoryUsage();
    const out = {
      event_loop_delay_p50_ms: ms(this.loop.percentile(50)),
      event_loop_delay_p99_ms: ms(this.loop.percentile(99)),
      event_loop_delay_max_ms: ms(this.loop.max),
      rss_bytes: mem.rss,
      heap_used_bytes: mem.heapUsed,
    };
    if (reset) this.loop.reset();
    return out;
  }

  stop(): void {
    this.loop.disable();
  }
}
