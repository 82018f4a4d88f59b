import type { BdewProfile, BdewProfiles } from '../simulator/index.ts';
import { profileQuarter } from '../simulator/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { Signal } from './lifecycle.ts';
import type { AlertRules } from './settings.ts';
import { deliveryLatencyOf } from './settings.ts';

/** A registry row the meter detectors judge. */
export interface JudgedMeter {
  readonly meterId: string;
  readonly group: string;
  readonly zone: string;
  readonly registerType: 'import' | 'export' | 'net';
  readonly annualKwh: number;
  readonly profile: BdewProfile;
  readonly timeZone: string;
  readonly validFrom: number | null;
  readonly validTo: number | null;
}

/** One stored interval value (kWh) of a meter. */
export interface StoredInterval {
  readonly meterId: string;
  readonly quantity: 'energy_import' | 'energy_export';
  readonly ts: number;
  readonly intervalS: number;
  readonly value: number;
}

export interface MeterWindowInput {
  /** Quarter hours [from, to) to judge, on the UTC quarter-hour grid. */
  readonly from: number;
  readonly to: number;
  readonly meters: readonly JudgedMeter[];
  /** Every stored interval overlapping [from, to). */
  readonly intervals: readonly StoredInterval[];
  readonly profiles: BdewProfiles;
  readonly rules: AlertRules;
  /** Processing time: silence counts only once a group's delivery latency has passed after a window. */
  readonly now: number;
}

/** Energy and presence of one meter in one quarter hour (an hour's value is spread over its quarters). */
interface Cell {
  import: number;
  export: number;
  present: boolean;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * The meter detectors over closed quarter hours: per group, an outage when at least `darkShare` of its meters are
 * silent (past the group's declared delivery latency; never without one) or at zero; per meter, reverse flow on an
 * import-only register (a negative import or any export) and a possible tampering (energy at or below `ratio` of
 * the meter's profile expectation while the group's median meter is at least at `groupNormal` of its own, and the
 * group is not dark). Quiet verdicts are returned too; the caller drops those of keys not in play.
 */
export function meterWindowSignals(input: MeterWindowInput): Signal[] {
  const { rules } = input;
  const d = rules.detectors;
  const cells = new Map<string, Cell>();
  const cell = (meterId: string, w: number): Cell => {
    const k = `${meterId}|${w}`;
    let c = cells.get(k);
    if (c === undefined) cells.set(k, (c = { import: 0, export: 0, present: false }));
    return c;
  };
  for (const i of input.intervals) {
    const end = i.ts + i.intervalS * 1000;
    for (
      let w = Math.max(input.from, Math.floor(i.ts / SLOT_MS) * SLOT_MS);
      w < Math.min(end, input.to);
      w += SLOT_MS
    ) {
      const overlap = Math.min(end, w + SLOT_MS) - Math.max(i.ts, w);
      if (overlap <= 0) continue;
      const c = cell(i.meterId, w);
      const part = (i.value * overlap) / (i.intervalS * 1000);
      if (i.quantity === 'energy_import') {
        c.import += part;
        c.present = true;
      } else c.export += part;
    }
  }
  const groups = new Map<string, JudgedMeter[]>();
  for (const m of input.meters) {
    const list = groups.get(m.group);
    if (list === undefined) groups.set(m.group, [m]);
    else list.push(m);
  }
  const expectedCache = new Map<string, number>();
  const expected = (m: JudgedMeter, w: number): number => {
    const k = `${m.profile}|${m.timeZone}|${w}`;
    let perKwh = expectedCache.get(k);
    if (perKwh === undefined) {
      const q = profileQuarter(w, m.timeZone);
      // Watts per 1 000 kWh a year × a quarter hour → kWh per kWh of annual consumption.
      perKwh = (input.profiles.watts(m.profile, q.period, q.dayType, q.quarter) * 0.25) / 1000 / 1000;
      expectedCache.set(k, perKwh);
    }
    return perKwh * m.annualKwh;
  };
  const signals: Signal[] = [];
  for (let w = input.from; w < input.to; w += SLOT_MS) {
    const window = { from: w, to: w + SLOT_MS };
    for (const [group, all] of groups) {
      const members = all.filter(
        (m) => (m.validFrom === null || m.validFrom <= w) && (m.validTo === null || m.validTo > w),
      );
      const importing = members.filter((m) => m.registerType !== 'export');
      if (importing.length === 0) continue;
      const zone = importing[0]?.zone ?? null;
      const latency = deliveryLatencyOf(rules, group);
      const silenceCounts = latency !== null && w + SLOT_MS + latency <= input.now;
      let judged = 0;
      let silent = 0;
      let zero = 0;
      const ratios: number[] = [];
      for (const m of importing) {
        const c = cells.get(`${m.meterId}|${w}`);
        if (c === undefined || !c.present) {
          if (silenceCounts) {
            judged++;
            silent++;
          }
          continue;
        }
        judged++;
        if (Math.abs(c.import) <= d.meter_outage.zeroKwh) zero++;
        const e = expected(m, w);
        if (e > 0) ratios.push(c.import / e);
      }
      const dark = judged === 0 ? 0 : (silent + zero) / judged;
      if (d.meter_outage.enabled && judged >= d.meter_outage.minMeters) {
        const active = dark >= d.meter_outage.darkShare;
        if (active || dark < d.meter_outage.clearShare)
          signals.push({
            detector: 'meter_outage',
            subject: group,
            active,
            ...window,
            severity: d.meter_outage.severity,
            zone,
            group,
            meter: null,
            message: active
              ? `${silent + zero} of ${judged} meters of group ${group} are dark (${silent} silent, ${zero} at zero)`
              : `group ${group} is back: ${judged - silent - zero} of ${judged} meters deliver energy`,
            values: { meters: judged, silent, zero, dark_share: round(dark) },
          });
      }
      ratios.sort((a, b) => a - b);
      const median = ratios.length === 0 ? null : (ratios[Math.floor((ratios.length - 1) / 2)] ?? null);
      const groupNormal = median !== null && median >= d.meter_tamper.groupNormal && dark < d.meter_outage.clearShare;
      const medianRatio = median === null ? null : round(median);
      for (const m of members) {
        const c = cells.get(`${m.meterId}|${w}`);
        if (c === undefined) continue;
        if (d.meter_reverse_flow.enabled && m.registerType === 'import') {
          const reverse = c.import < -d.meter_outage.zeroKwh || c.export > d.meter_outage.zeroKwh;
          signals.push({
            detector: 'meter_reverse_flow',
            subject: m.meterId,
            active: reverse,
            ...window,
            severity: d.meter_reverse_flow.severity,
            zone: m.zone,
            group,
            meter: m.meterId,
            message: reverse
              ? `import-only meter ${m.meterId} measured energy flowing back (${round(c.import)} kWh import, ${round(c.export)} kWh export)`
              : `meter ${m.meterId} imports again`,
            values: { import_kwh: round(c.import), export_kwh: round(c.export) },
          });
        }
        if (d.meter_tamper.enabled && c.present && groupNormal && m.registerType !== 'export') {
          const e = expected(m, w);
          if (e <= 0) continue;
          const ratio = c.import / e;
          const low = ratio >= 0 && ratio <= d.meter_tamper.ratio;
          signals.push({
            detector: 'meter_tamper',
            subject: m.meterId,
            active: low,
            ...window,
            severity: d.meter_tamper.severity,
            zone: m.zone,
            group,
            meter: m.meterId,
            message: low
              ? `meter ${m.meterId} is near zero (${round(ratio * 100)} % of its profile) while its group ${group} is normal`
              : `meter ${m.meterId} consumes as expected again`,
            values: {
              energy_kwh: round(c.import),
              expected_kwh: round(e),
              ratio: round(ratio),
              group_median_ratio: medianRatio,
            },
          });
        }
      }
    }
  }
  return signals;
}
