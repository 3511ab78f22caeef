// `<topic>.subscribe` / `<topic>.unsubscribe` for status, peers, gateway
// and logs. logs.subscribe replays the recent history, then streams live.

import type { LogEntry } from '../../log/history.js';
import { defineMethod, type MethodTable } from '../dispatch.js';
import type { Topic } from '../events.js';

const UNSUBSCRIBE_PARAMS = { subscription_id: { type: 'string', optional: true } } as const;

function pair(topic: Topic): MethodTable {
  return {
    [`${topic}.subscribe`]: defineMethod({}, (_p, ctx) => ({ subscription_id: ctx.subscribe(topic) })),
    [`${topic}.unsubscribe`]: defineMethod(UNSUBSCRIBE_PARAMS, ({ subscription_id }, ctx) => {
      ctx.unsubscribe(topic, subscription_id ?? null);
      return null;
    }),
  };
}

export interface SubscriptionMethodDeps {
  /** The recent log lines, oldest first. */
  recentLogs(): readonly LogEntry[];
}

export function subscriptionMethods(d: SubscriptionMethodDeps): MethodTable {
  return {
    ...pair('status'),
    ...pair('peers'),
    ...pair('gateway'),
    ...pair('logs'),
    'logs.subscribe': defineMethod({}, (_p, ctx) => {
      const subscriptionId = ctx.subscribe('logs');
      const history = [...d.recentLogs()];
      // The connection sends these after the answer, then live lines.
      for (const entry of history) ctx.notify('logs', { ...entry, at: entry.ts });
      return { subscription_id: subscriptionId, replayed: history.length };
    }),
  };
}
