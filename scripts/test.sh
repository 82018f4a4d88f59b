#!/usr/bin/env bash
# `npm test`: starts what the suites need, then runs every test. Nothing is skipped: suites that need Kafka,
# PostgreSQL or Chromium fail when the service is missing (GRIDSTREAM_TEST_REQUIRE_SERVICES=1).
set -euo pipefail
cd "$(dirname "$0")/.."

# Kafka: a real KRaft broker from the official jars on Maven Central (cached under ~/.cache/gridstream/kafka).
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  KAFKA_BROKERS="$(bash scripts/kafka.sh start | sed -n 's/^KAFKA_BROKERS=//p')"
fi
export KAFKA_BROKERS

# PostgreSQL: the machine's server (trust auth); tests create and drop their own schemas.
export GRIDSTREAM_TEST_DATABASE_URL="${GRIDSTREAM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

# MQTT: the machine's Mosquitto (anonymous on localhost); the tests use topics of their own.
export GRIDSTREAM_TEST_MQTT_URL="${GRIDSTREAM_TEST_MQTT_URL:-mqtt://127.0.0.1:1883}"

# Chromium for the browser tests: Debian's package (playwright never downloads a browser here).
if [[ ! -x /usr/bin/chromium ]] && [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  fi
fi

# promtool for the metrics exposition test: Debian's prometheus package (nothing is started).
if ! command -v promtool >/dev/null && [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
  echo "installing Debian's prometheus package for promtool" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null
fi

# Containers for the image and compose tests: Debian's podman (run as root with runc), debootstrap for the base
# images (no registry), podman-compose (docs/DEPLOY.md).
# debootstrap (and runuser, for the private PostgreSQL clusters) live in the sbin folders, which a minimal PATH
# such as CI's lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
missing_container_tools=0
for tool in podman runc debootstrap podman-compose; do command -v "$tool" >/dev/null || missing_container_tools=1; done
if [[ $missing_container_tools == 1 ]]; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "installing Debian's podman, runc, debootstrap and podman-compose for the container tests" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap podman-compose >/dev/null; then
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap podman-compose >/dev/null
    fi
  fi
fi

export GRIDSTREAM_TEST_REQUIRE_SERVICES=1
echo "node $(node --version), KAFKA_BROKERS=$KAFKA_BROKERS" >&2
exec node --test --test-concurrency="${GRIDSTREAM_TEST_CONCURRENCY:-3}" --test-timeout=600000 'test/**/*.test.ts' "$@"
