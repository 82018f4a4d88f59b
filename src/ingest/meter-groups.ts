import type { CanonicalReading } from '../contracts/index.ts';
import type { Db, MeterGroupValidity } from '../storage/index.ts';
import { meterGroupValidities } from '../storage/index.ts';
import type { LineRefusal } from './readings.ts';

/**
 * The group an MQTT topic is reserved to: the segment after the first `groups` segment (`a/groups/feeder-7/m-1` →
 * `feeder-7`); `undefined` for a topic without one (or with an empty name).
 */
export function groupOfTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  const at = parts.indexOf('groups');
  const group = at === -1 ? undefined : parts[at + 1];
  return group === undefined || group === '' ? undefined : group;
}

/** How long a meter's registry groups are reused. @default 30 s */
const TTL_MS = 30_000;
/** Meters remembered at most (the oldest are forgotten first). */
const MAX_METERS = 50_000;

/**
 * The registry group of meters at a time, cached briefly per meter (every validity at once, so one entry answers
 * for any reading time). A meter registered or moved a moment ago is seen within the TTL. Unknown meters are
 * remembered as unknown for the same TTL, so a device flooding unknown ids costs one query per TTL and batch.
 */
export class MeterGroups {
  readonly #db: Db;
  readonly #cache = new Map<string, { readonly validities: readonly MeterGroupValidity[]; readonly at: number }>();

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * What {@link parseReadingBody}'s `admit` needs for a key limited to `allowed` groups, for the meters of
   * `readings`: a reading passes iff its meter's registry group valid at its `ts` is one of them. A meter the
   * registry does not know (or not at that time) cannot be attributed: refused too.
   */
  async admission(
    readings: readonly CanonicalReading[],
    allowed: ReadonlySet<string>,
    now = Date.now(),
  ): Promise<(reading: CanonicalReading) => LineRefusal | undefined> {
    const wanted = [...new Set(readings.map((r) => r.meter_id))];
    const stale = wanted.filter((id) => {
      const hit = this.#cache.get(id);
      return hit === undefined || now - hit.at >= TTL_MS;
    });
    if (stale.length > 0) {
      const found = await meterGroupValidities(this.#db, stale);
      for (const id of stale) {
        this.#cache.delete(id);
        this.#cache.set(id, { validities: found.get(id) ?? [], at: now });
      }
      for (const id of this.#cache.keys()) {
        if (this.#cache.size <= MAX_METERS) break;
        this.#cache.delete(id);
      }
    }
    const known = new Map(wanted.map((id) => [id, this.#cache.get(id)?.validities ?? []]));
    return (reading) => {
      const t = Date.parse(reading.ts);
      const validity = known
        .get(reading.meter_id)
        ?.find((v) => (v.from === null || v.from <= t) && (v.to === null || t < v.to));
      if (validity === undefined)
        return {
          reason: 'ingest.group_forbidden',
          message: `meter ${reading.meter_id} is not in the registry at ${reading.ts}: a key limited to groups sends only registered meters of its groups`,
        };
      if (!allowed.has(validity.group))
        return {
          reason: 'ingest.group_forbidden',
          message: `meter ${reading.meter_id} is not in a group of this key at ${reading.ts}`,
        };
      return undefined;
    };
  }
}
