/*
 * Electricity Maps API v3 response shapes (and the legacy CO2 Signal v1 one), as seen in real responses:
 *
 *   GET /v3/power-breakdown/latest?zone=DE  → { zone, datetime, powerProductionBreakdown{mode: MW|null},
 *       powerConsumptionBreakdown{…}, powerImportBreakdown{zone: MW}, powerExportBreakdown{…},
 *       fossilFreePercentage, renewablePercentage, power*Total, isEstimated, estimationMethod, … }
 *   GET /v3/power-breakdown/history?zone=DE → { zone, history: [ <latest shape> × 24 ] }
 *   GET /v3/carbon-intensity/latest?zone=…  → { zone, carbonIntensity, datetime, emissionFactorType, isEstimated, … }
 *   GET /v3/carbon-intensity/history        → { zone, history: [ <latest shape> ] }
 *   GET /v3/carbon-intensity/past-range     → { zone, data: [ <latest shape> ] }
 *   GET https://api.co2signal.com/v1/latest → { status: "ok"|"no-data", countryCode, data{datetime, carbonIntensity,
 *       fossilFuelPercentage}, units }
 */
import { z } from 'zod';

const mw = z.number().nullable();
const instant = z.iso.datetime({ offset: true });

export const PowerBreakdownSchema = z.object({
  zone: z.string(),
  datetime: instant,
  updatedAt: instant.optional(),
  createdAt: instant.optional(),
  powerProductionBreakdown: z.record(z.string(), mw),
  powerConsumptionBreakdown: z.record(z.string(), mw),
  powerImportBreakdown: z.record(z.string(), mw).nullable().optional(),
  powerExportBreakdown: z.record(z.string(), mw).nullable().optional(),
  fossilFreePercentage: z.number().nullable().optional(),
  renewablePercentage: z.number().nullable().optional(),
  powerConsumptionTotal: z.number().nullable().optional(),
  powerProductionTotal: z.number().nullable().optional(),
  powerImportTotal: z.number().nullable().optional(),
  powerExportTotal: z.number().nullable().optional(),
  isEstimated: z.boolean().nullable().optional(),
  estimationMethod: z.string().nullable().optional(),
});
export type PowerBreakdown = z.infer<typeof PowerBreakdownSchema>;

export const CarbonIntensitySchema = z.object({
  zone: z.string(),
  carbonIntensity: z.number().nullable(),
  datetime: instant,
  updatedAt: instant.optional(),
  createdAt: instant.optional(),
  emissionFactorType: z.enum(['lifecycle', 'direct']).optional(),
  isEstimated: z.boolean().nullable().optional(),
  estimationMethod: z.string().nullable().optional(),
  /** Only in legacy CO2 Signal responses (derived from their fossil fuel share). */
  fossilFreePercentage: z.number().nullable().optional(),
});
export type CarbonIntensity = z.infer<typeof CarbonIntensitySchema>;

export const PowerBreakdownHistorySchema = z.object({ zone: z.string(), history: z.array(PowerBreakdownSchema) });
export const CarbonIntensityHistorySchema = z.object({ zone: z.string(), history: z.array(CarbonIntensitySchema) });
export const CarbonIntensityRangeSchema = z.object({ zone: z.string(), data: z.array(CarbonIntensitySchema) });

export const Co2SignalSchema = z.object({
  status: z.string(),
  countryCode: z.string(),
  data: z.object({
    datetime: instant.optional(),
    carbonIntensity: z.number().optional(),
    fossilFuelPercentage: z.number().optional(),
  }),
  units: z.object({ carbonIntensity: z.string() }).optional(),
});
