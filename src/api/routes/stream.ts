import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { sleep } from '../../common/index.ts';
import type { LiveFeed, SlotEvent } from '../live-feed.ts';
import { zoneList } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone } from '../permissions.ts';
import { defineRoute, handle } from '../route.ts';
import { SlotEventSchema } from '../schemas.ts';

export const streamRoute = defineRoute({
  method: 'get',
  path: '/api/v1/stream',
  operationId: 'stream',
  summary: 'Server-Sent Events: one `slot` event per series with a newly stored slot',
  description:
    'A `hello` event on connect, then one `slot` event (JSON: zone, metric, production type, qualifier, slot, value, updated_at) per series that got a newly stored slot, and a comment every 15 s.',
  access: 'reader',
  query: { zones: zoneList.optional().meta({ description: 'Zones (default: all the key may read)' }) },
  contentType: 'text/event-stream',
  events: { slot: SlotEventSchema },
});

/**
 * `GET /api/v1/stream?zones=DE_LU,FR`: Server-Sent Events, one `slot` event per series that got a newly stored
 * slot (its newest slot and value), a `hello` event on connect and a comment every 15 s to keep proxies from
 * closing the connection. Zones outside the key's allow-list are refused (listed) or filtered out (unlisted).
 */
export function streamRoutes(app: Hono<ApiEnv>, feed: LiveFeed, shutdown: AbortSignal): void {
  handle(app, streamRoute, (c, { query: q }) => {
    const principal = c.get('principal');
    for (const zone of q.zones ?? []) allowZone(principal, zone, 'zones');
    const wanted = q.zones === undefined ? null : new Set(q.zones);
    const visible = (e: SlotEvent): boolean =>
      (wanted === null || wanted.has(e.zone)) && (principal.zones === null || principal.zones.has(e.zone));
    // Only what is stored after the client connected (minus a little slack for commits in flight) is news to it.
    const connectedAt = Date.now() - 2_000;
    return streamSSE(c, async (stream) => {
      const queue: SlotEvent[] = [];
      // Filled by the feed while this loop awaits: read through a function so the check is never narrowed away.
      const pending = (): number => queue.length;
      const open = (): boolean => !stream.aborted && !stream.closed && !shutdown.aborted;
      // Aborted to end the keep-alive wait early: news arrived, the client left, or the server stops.
      let wake = new AbortController();
      const unsubscribe = feed.subscribe((events) => {
        for (const e of events) if (visible(e) && Date.parse(e.updated_at) >= connectedAt) queue.push(e);
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
          for (const e of queue.splice(0, queue.length)) {
            await stream.writeSSE({ event: 'slot', data: JSON.stringify(e), id: String(id++) });
          }
        }
      } finally {
        unsubscribe();
        shutdown.removeEventListener('abort', stop);
      }
    });
  });
}
