import type { Component } from '../common/index.ts';
import { periodic } from '../common/index.ts';
import type { CanonicalReading } from '../contracts/index.ts';
import { rawMetersTopic } from '../contracts/index.ts';
import { produceValues } from '../log/index.ts';
import type { Meter } from '../meters/index.ts';
import { insertMeter, metersByIds } from '../meters/index.ts';
import type { SimulatedMeter } from '../simulator/index.ts';
import { NO_FAULTS, generateFleet, loadBdewProfiles, simulate, toCanonicalReading } from '../simulator/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { Infrastructure } from './infrastructure.ts';

/** The demo fleet's zone and time zone (its BDEW profiles are German). */
const ZONE = 'DE_LU';
const TIME_ZONE = 'Europe/Berlin';
/** How far back the fleet starts on a fresh data directory, so that the meter pages have days to show. */
const HISTORY_MS = 2 * 86_400_000;
/** Readings per produce call. */
const CHUNK = 5000;
/** The demo fleet's seed: the same meters and curves on every start. */
const SEED = 1;

/**
 * The labelled simulated fleet of the embedded default (`gridstream start` without servers): `count` meters
 * (`sim-000001`…, groups `sim-feeder-001`…, registered with `simulated: true`) whose BDEW-profile quarter hours go
 * into raw.meters as canonical readings — the records the ingest gateway would write for them — so that the whole
 * meter pipeline (meters role, windows, API, dashboard) runs on a fresh machine. It catches up from two days ago (or
 * from the last quarter it stored) and then sends each quarter hour when it ends. Interval meters only: register
 * counters would restart on every process start and read as resets.
 */
export function simulatedFleet(infra: Infrastructure, count: number): Component {
  const { db, log, logger, scrub } = infra;
  const meters = generateFleet({ count, seed: SEED, registerShare: 0 }).map((m) => ({
    ...m,
    meterId: `sim-${m.meterId.replace(/^sim-/, '')}`,
    group: `sim-${m.group.replace(/^sim-/, '')}`,
  }));
  const profiles = loadBdewProfiles();
  let sentUntil: number | undefined;

  async function register(): Promise<number> {
    const known = await metersByIds(
      db,
      meters.map((m) => m.meterId),
    );
    const missing = meters.filter((m) => !known.has(m.meterId));
    for (let i = 0; i < missing.length; i += 500) {
      const slice = missing.slice(i, i + 500);
      await db.transaction(async (tx) => {
        for (const m of slice) await insertMeter(tx, fleetRegistryRow(m, { simulated: true }));
      });
    }
    if (missing.length > 0) logger.info({ meters: missing.length }, 'simulated fleet registered');
    const { rows } = await db.query<{ last: Date | null }>(
      `SELECT max(ts) AS last FROM meter_intervals WHERE meter_id = ANY($1::text[])`,
      [meters.slice(0, 10).map((m) => m.meterId)],
    );
    const last = rows[0]?.last ?? null;
    const floor = Math.floor((Date.now() - HISTORY_MS) / SLOT_MS) * SLOT_MS;
    return last === null ? floor : Math.max(floor, last.getTime() + SLOT_MS);
  }

  return periodic({
    name: 'simulated-fleet',
    logger,
    intervalMs: 60_000,
    run: async (signal) => {
      sentUntil ??= await register();
      const end = Math.floor(Date.now() / SLOT_MS) * SLOT_MS;
      let batch: CanonicalReading[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const produced = await produceValues(log, rawMetersTopic, batch, { scrub, signal });
        if (produced.rejected.length > 0)
          logger.error(
            { rejected: produced.rejected.length, first: produced.rejected[0]?.error.message },
            'simulated fleet: readings refused by the raw.meters schema',
          );
        batch = [];
      };
      if (end > sentUntil) {
        for (const step of simulate({
          meters,
          profiles,
          from: sentUntil,
          to: end,
          seed: SEED,
          faults: NO_FAULTS,
          timeZone: TIME_ZONE,
        })) {
          for (const r of step.send) batch.push(toCanonicalReading(r));
          if (batch.length >= CHUNK) await flush();
        }
        await flush();
        sentUntil = end;
      }
      // Shortly after the next quarter hour ends.
      return end + SLOT_MS + 5_000 - Date.now();
    },
  });
}

/**
 * The registry row of a simulated interval meter (DE_LU, Europe/Berlin, PT15M, import): the embedded fleet's
 * (`simulated: true`) and the benchmarks' fleets.
 */
export function fleetRegistryRow(m: SimulatedMeter, options: { readonly simulated: boolean }): Meter {
  return {
    meter_id: m.meterId,
    zone: ZONE,
    group: m.group,
    time_zone: TIME_ZONE,
    register_type: 'import',
    interval: 'PT15M',
    annual_consumption_kwh: String(m.annualKwh),
    profile: m.profile,
    lat: null,
    lon: null,
    register_capacity_kwh: null,
    simulated: options.simulated,
    valid_from: null,
    valid_to: null,
  };
}
