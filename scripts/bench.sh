#!/usr/bin/env bash
# `npm run bench [-- <name>…]`: starts what the benchmarks need (a Kafka broker from the official jars, like
# `npm test`), then runs them. PostgreSQL is the machine's server unless GRIDSTREAM_BENCH_DATABASE_URL says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  KAFKA_BROKERS="$(bash scripts/kafka.sh start | sed -n 's/^KAFKA_BROKERS=//p')"
fi
export KAFKA_BROKERS
export GRIDSTREAM_BENCH_DATABASE_URL="${GRIDSTREAM_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
exec node bench/run.ts "$@"
