// `<topic>.subscribe` / `<topic>.unsubscribe` for status, peers, gateway
// and logs. logs.subscribe takes pim-ui's filters, replays the recent
// history it lets through, then streams live lines.

import type { LogEntry } from '../../log/history.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import type { Topic } from '../events.js';
import { logFilter } from '../log-filter.js';
import { logEventWire, type WireLogEvent } from '../wire.js';

// The id is required: pim-ui's shell sends `*.unsubscribe` without one when
// one of several screens watching a topic goes away, and must not end the
// others' subscriptions with it (it ignores the -32602 this answers).
const UNSUBSCRIBE_PARAMS = { subscription_id: { type: 'string' } } as const;

function pair(topic: Topic): MethodTable {
  return {
    [`${topic}.subscribe`]: defineMethod({}, (_p, ctx) => ({ subscription_id: ctx.subscribe(topic) })),
    [`${topic}.unsubscribe`]: defineMethod(UNSUBSCRIBE_PARAMS, ({ subscription_id }, ctx) => {
      ctx.unsubscribe(topic, subscription_id);
      return null;
    }),
  };
}

export interface SubscriptionMethodDeps {
  /** The recent log lines, oldest first. */
  recentLogs(): readonly LogEntry[];
}

const LOGS_PARAMS = {
  min_level: { type: 'string', optional: true },
  levels: { type: 'array', optional: true },
  sources: { type: 'array', optional: true },
} as const;

export function subscriptionMethods(d: SubscriptionMethodDeps): MethodTable {
  return {
    ...pair('status'),
    ...pair('peers'),
    ...pair('gateway'),
    ...pair('logs'),
    'logs.subscribe': defineMethod(LOGS_PARAMS, (p, ctx) => {
      const accepts = logFilter({ minLevel: p.min_level, levels: p.levels, sources: p.sources });
      // A connection gets each line once, however many subscriptions it
      // holds (pim-ui's shell opens two): the replay leaves out what an
      // earlier subscription of this connection already let through.
      const history = d
        .recentLogs()
        .map(logEventWire)
        .filter((e) => accepts(e) && !ctx.receives('logs', e));
      const subscriptionId = ctx.subscribe('logs', (params) => accepts(params as WireLogEvent));
      // The connection sends these after the answer, then live lines.
      for (const e of history) ctx.notify('logs', e);
      return { subscription_id: subscriptionId, replayed: history.length };
    }),
  };
}
