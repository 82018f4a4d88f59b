/**
 * `npm run bench [-- <name>…]`: runs all or the named benchmarks, printing one JSON line per figure to stdout.
 * Progress and errors go to stderr. A benchmark whose services are missing fails (exit 1); it is never skipped.
 */
import type { Benchmark, Figure } from './figure.ts';
import { alertsBenchmark } from './alerts.ts';
import { apiBenchmark } from './api.ts';
import { entsoeParseBenchmark } from './entsoe-parse.ts';
import { ingestBenchmark } from './ingest.ts';
import { logFsyncBenchmark } from './log-fsync.ts';
import { logThroughputBenchmark } from './log-throughput.ts';
import { mqttIngestBenchmark } from './mqtt-ingest.ts';
import { processingBenchmark } from './processing.ts';
import { qualityBenchmark } from './quality.ts';
import { meterLayoutBenchmark } from './meter-layout.ts';
import { metersBenchmark } from './meters.ts';
import { simulatorBenchmark } from './simulator.ts';
import { staticMembershipBenchmark } from './static-membership.ts';
import { storageSinkBenchmark } from './storage-sink.ts';

const BENCHMARKS: readonly Benchmark[] = [
  entsoeParseBenchmark,
  processingBenchmark,
  logThroughputBenchmark,
  logFsyncBenchmark,
  storageSinkBenchmark,
  ingestBenchmark,
  mqttIngestBenchmark,
  apiBenchmark,
  simulatorBenchmark,
  meterLayoutBenchmark,
];
/**
 * Run only when named (minutes long: a 100 000-meter fleet through real processes; VEE + settlement of thousands of
 * meter days; alert latency paced in wall time; kill -9 stalls that last a session timeout): never in CI.
 */
const ON_REQUEST: readonly Benchmark[] = [
  metersBenchmark,
  qualityBenchmark,
  alertsBenchmark,
  staticMembershipBenchmark,
];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => ![...BENCHMARKS, ...ON_REQUEST].some((b) => b.name === w));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}\navailable: ${[...BENCHMARKS, ...ON_REQUEST].map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}
const selected =
  wanted.length === 0 ? BENCHMARKS : [...BENCHMARKS, ...ON_REQUEST].filter((b) => wanted.includes(b.name));
let failed = 0;
for (const b of selected) {
  process.stderr.write(`# ${b.name}: ${b.description}\n`);
  try {
    await b.run((f: Figure) => {
      process.stdout.write(`${JSON.stringify(f)}\n`);
    });
  } catch (error) {
    failed++;
    process.stderr.write(
      `# ${b.name} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
}
process.exitCode = failed > 0 ? 1 : 0;
