import assert from 'node:assert/strict';
import type { Component } from '../../src/common/index.ts';
import type { MeterSettings } from '../../src/config/index.ts';
import { METERS_JOB, insertMeter, metersRole, resolveMeter } from '../../src/meters/index.ts';
import { qualityRole, VeeRules } from '../../src/quality/index.ts';
import type { Infrastructure } from '../../src/runtime/index.ts';
import { settleRole } from '../../src/settlement/index.ts';
import type { SimulatedMeter } from '../../src/simulator/index.ts';
import { loadBdewProfiles } from '../../src/simulator/index.ts';
import { metersDrained } from './meters.ts';

/** Runs the meters, quality and settle roles on one infrastructure. */
export async function runMeterPipeline(
  infra: Infrastructure,
  settings: MeterSettings,
  options: { readonly waitMs?: number; readonly rules?: VeeRules } = {},
): Promise<{ stop(): Promise<void> }> {
  const components: Component[] = [
    ...metersRole({ ...infra, settings }),
    ...qualityRole({
      ...infra,
      rules: options.rules ?? new VeeRules(),
      profiles: loadBdewProfiles(),
      clockToleranceMs: settings.clockToleranceMs,
      idleMs: 100,
      silentSweepMs: 200,
    }),
    ...settleRole({ ...infra, waitMs: options.waitMs ?? 0, idleMs: 100 }),
  ];
  for (const c of components) await c.start();
  return {
    async stop() {
      for (const c of [...components].reverse()) await c.stop({ graceMs: 5000 });
    },
  };
}

/**
 * Waits until everything sent is final in the database: the meters role has committed the offsets of all of
 * raw.meters, no window its watermark has passed is still pending, and the quality and settle queues and the
 * recorded price changes are empty (each emptied in the transaction that wrote its results).
 */
export async function meterPipelineSettled(infra: Infrastructure, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await metersDrained(infra.log, infra.db, timeoutMs);
  for (;;) {
    // One statement, one snapshot: a window emitted and its day queued commit together.
    const { rows } = await infra.db.query<{ due: number; changes: number; quality: number; settle: number }>(
      `SELECT (SELECT count(*)::integer FROM stream_pending_windows p JOIN stream_jobs j ON j.job = p.job
               WHERE p.job = $1 AND p.window_end <= j.watermark) AS due,
              (SELECT count(*)::integer FROM settlement_input_changes) AS changes,
              (SELECT count(*)::integer FROM meter_work WHERE job = 'quality') AS quality,
              (SELECT count(*)::integer FROM meter_work WHERE job = 'settle') AS settle`,
      [METERS_JOB],
    );
    const r = rows[0];
    if (r !== undefined && r.due === 0 && r.changes === 0 && r.quality === 0 && r.settle === 0) return;
    if (Date.now() > deadline) assert.fail(`pipeline not settled: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Registers simulated interval meters (DE_LU, Europe/Berlin, PT15M, import) with their profile and consumption. */
export async function registerFleet(infra: Infrastructure, fleet: readonly SimulatedMeter[]): Promise<void> {
  for (const m of fleet)
    await insertMeter(
      infra.db,
      resolveMeter(
        {
          meter_id: m.meterId,
          zone: 'DE_LU',
          time_zone: 'Europe/Berlin',
          group: m.group,
          interval: 'PT15M',
          register_type: 'import',
          profile: m.profile,
          annual_consumption_kwh: String(m.annualKwh),
        } as Parameters<typeof resolveMeter>[0],
        infra.reference,
      ),
    );
}
