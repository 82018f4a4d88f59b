import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { sleep } from '../../common/index.ts';
import { AlertEventSchema } from '../../contracts/index.ts';
import type { AlertEvent } from '../../contracts/index.ts';
import type { AlertFeed } from '../alert-feed.ts';
import type { LiveFeed, SlotEvent } from '../live-feed.ts';
import type { Db } from '../../storage/index.ts';
import { alertScope, auditMeterAlerts } from './alerts.ts';
import { zoneList } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone } from '../permissions.ts';
import { defineRoute, handle } from '../route.ts';
import { SlotEventSchema } from '../schemas.ts';

export const streamRoute = defineRoute({
  method: 'get',
  path: '/api/v1/stream',
  operationId: 'stream',
  summary:
    'Server-Sent Events: one `slot` event per series with a newly stored slot, one `alert` event per alert transition',
  description:
    'A `hello` event on connect, then one `slot` event (JSON: zone, metric, production type, qualifier, slot, value, updated_at) per series that got a newly stored slot, one `alert` event per alert transition the key may see (opened, escalated, acknowledged, resolved; meter alerts only with a key, within its groups), and a comment every 15 s.',
  access: 'reader',
  query: { zones: zoneList.optional().meta({ description: 'Zones (default: all the key may read)' }) },
  contentType: 'text/event-stream',
  events: { slot: SlotEventSchema, alert: AlertEventSchema },
});

/**
 * `GET /api/v1/stream?zones=DE_LU,FR`: Server-Sent Events, one `slot` event per series that got a newly stored
 * slot (its newest slot and value), a `hello` event on connect and a comment every 15 s to keep proxies from
 * closing the connection. Zones outside the key's allow-list are refused (listed) or filtered out (unlisted).
 */
export function streamRoutes(
  app: Hono<ApiEnv>,
  deps: { readonly db: Db; readonly feed: LiveFeed; readonly alerts: AlertFeed },
  shutdown: AbortSignal,
): void {
  const { db, feed, alerts } = deps;
  handle(app, streamRoute, (c, { query: q }) => {
    const principal = c.get('principal');
    for (const zone of q.zones ?? []) allowZone(principal, zone, 'zones');
    const wanted = q.zones === undefined ? null : new Set(q.zones);
    const visible = (e: SlotEvent): boolean =>
      (wanted === null || wanted.has(e.zone)) && (principal.zones === null || principal.zones.has(e.zone));
    // Only what is stored after the client connected (minus a little slack for commits in flight) is news to it.
    const connectedAt = Date.now() - 2_000;
    const scope = alertScope(principal);
    const alertVisible = (e: AlertEvent): boolean => {
      const a = e.alert;
      if (
        (a.group !== null || a.meter !== null) &&
        (!scope.personal || (scope.groups !== null && (a.group === null || !scope.groups.has(a.group))))
      )
        return false;
      if (a.zone === null) return scope.zones === null && wanted === null;
      return (wanted === null || wanted.has(a.zone)) && (scope.zones === null || scope.zones.has(a.zone));
    };
    return streamSSE(c, async (stream) => {
      const queue: ({ kind: 'slot'; e: SlotEvent } | { kind: 'alert'; e: AlertEvent })[] = [];
      // Filled by the feed while this loop awaits: read through a function so the check is never narrowed away.
      const pending = (): number => queue.length;
      const open = (): boolean => !stream.aborted && !stream.closed && !shutdown.aborted;
      // Aborted to end the keep-alive wait early: news arrived, the client left, or the server stops.
      let wake = new AbortController();
      const unsubscribe = feed.subscribe((events) => {
        for (const e of events)
          if (visible(e) && Date.parse(e.updated_at) >= connectedAt) queue.push({ kind: 'slot', e });
        wake.abort();
      });
      const unsubscribeAlerts = alerts.subscribe((events) => {
        for (const e of events) if (alertVisible(e)) queue.push({ kind: 'alert', e });
        wake.abort();
      });
      const stop = (): void => {
        wake.abort();
      };
      shutdown.addEventListener('abort', stop, { once: true });
      stream.onAbort(stop);
      let id = 0;
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ zones: q.zones ?? null }), id: String(id++) });
        while (open()) {
          if (pending() === 0) {
            await sleep(15_000, { signal: wake.signal });
            if (wake.signal.aborted) wake = new AbortController();
            if (pending() === 0 && open()) await stream.write(': keep-alive\n\n');
            continue;
          }
          for (const item of queue.splice(0, queue.length)) {
            // A meter alert is personal data: its read is audited before it is sent.
            if (item.kind === 'alert' && item.e.alert.meter !== null)
              await auditMeterAlerts(db, principal, [item.e.alert]);
            await stream.writeSSE({ event: item.kind, data: JSON.stringify(item.e), id: String(id++) });
          }
        }
      } finally {
        unsubscribe();
        unsubscribeAlerts();
        shutdown.removeEventListener('abort', stop);
      }
    });
  });
}
