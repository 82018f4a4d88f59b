#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller) on 127.0.0.1 for dev, tests and CI,
# run straight from the official jars on Maven Central (deploy/kafka/pom.xml).
#
#   scripts/kafka.sh start|stop|status|restart|reset|classpath
#
# start prints exactly one stdout line, KAFKA_BROKERS=127.0.0.1:<port>; all else goes to stderr.
# Env: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_HEAP_OPTS (-Xms256m -Xmx768m),
#      GRIDSTREAM_KAFKA_HOME (~/.cache/gridstream/kafka), GRIDSTREAM_KAFKA_STATE ($HOME/state),
#      KAFKA_START_TIMEOUT (90 s).
# Test hooks (unset by default, then nothing changes): KAFKA_EXTRA_PROPERTIES names a file appended to the
# rendered server.properties (later keys win: e.g. extra SASL_SSL listeners; the PLAINTEXT one must stay, the
# readiness probe uses it); KAFKA_FORMAT_SCRAM holds SCRAM credentials, one per line
# ('SCRAM-SHA-512=[name=bob,password=…]'), created when the storage is formatted (a fresh state dir).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy/kafka"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$DEPLOY/pom.xml")"
CACHE="${GRIDSTREAM_KAFKA_HOME:-$HOME/.cache/gridstream/kafka}"
JARS="$CACHE/jars-$VERSION"
STATE="${GRIDSTREAM_KAFKA_STATE:-$CACHE/state}"
PID_FILE="$STATE/kafka.pid"
PORT_FILE="$STATE/port"
LOGS="$STATE/logs"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
# Fixed cluster id ("gridstream-kafka" in base64): formatting needs no extra JVM launch.
CLUSTER_ID="Z3JpZHN0cmVhbS1rYWZrYQ"

say() { echo "kafka.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Port of a running broker comes from the state dir, so status/start report the real one
# even when called without the KAFKA_PORT the broker was started with.
port() { if [[ -s $PORT_FILE ]] && running; then cat "$PORT_FILE"; else echo "${KAFKA_PORT:-19092}"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Checks the command line too, so a recycled pid is not mistaken for our broker.
running() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

fetch_jars() {
  [[ -f $JARS/kafka_2.13-$VERSION.jar ]] && return 0
  say "fetching Kafka $VERSION jars from Maven Central into $JARS (first run only)"
  local tmp="$JARS.tmp.$$"
  rm -rf "$JARS".tmp.*  # leftovers of an interrupted fetch
  # Debian's Maven 3.8 emits bare colour resets even with -q -B; keep stderr clean.
  mvn -q -B -f "$DEPLOY/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp" 2>&1 |
    sed 's/\x1b\[0m//g' >&2
  # Rename last, so an interrupted download is never mistaken for a complete cache.
  mv "$tmp" "$JARS" 2>/dev/null || rm -rf "$tmp"
}

check_java() {
  command -v java >/dev/null || die "java not on PATH (Kafka $VERSION needs Java 17+)"
  local v
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')"
  [[ ${v%%.*} -ge 17 ]] || die "Kafka $VERSION needs Java 17+, found $v"
}

wait_ready() {
  local p="$1" deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$p"; do
    running || die "broker exited during startup; see $LOGS/server.log and $LOGS/kafka.out"
    ((SECONDS < deadline)) || die "port $p not open after ${START_TIMEOUT}s; see $LOGS/server.log"
    sleep 0.3
  done
  # The port binds before the broker has caught up with the metadata log; a real
  # admin round-trip (which waits for request processing to start) proves readiness.
  until timeout $((deadline - SECONDS > 5 ? deadline - SECONDS : 5)) \
      java -cp "$JARS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$p" --list >/dev/null 2>&1; do
    running || die "broker exited during startup; see $LOGS/server.log"
    ((SECONDS < deadline)) || die "broker not ready after ${START_TIMEOUT}s; see $LOGS/server.log"
    sleep 1
  done
}

start() {
  if running; then
    [[ -n ${KAFKA_PORT:-} && $KAFKA_PORT != "$(port)" ]] &&
      say "warning: already running on port $(port); KAFKA_PORT=$KAFKA_PORT ignored (use restart)"
    wait_ready "$(port)"
    echo "KAFKA_BROKERS=127.0.0.1:$(port)"
    return 0
  fi
  check_java
  fetch_jars
  local p="${KAFKA_PORT:-19092}" cp="${KAFKA_CONTROLLER_PORT:-19093}"
  for x in "$p" "$cp"; do
    port_open "$x" && die "port $x is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  done
  mkdir -p "$STATE/data" "$LOGS"
  sed -e "s|@PORT@|$p|g" -e "s|@CONTROLLER_PORT@|$cp|g" -e "s|@STATE_DIR@|$STATE|g" \
    "$DEPLOY/server.properties.template" >"$STATE/server.properties"
  if [[ -n ${KAFKA_EXTRA_PROPERTIES:-} ]]; then
    { echo; echo "# Appended from $KAFKA_EXTRA_PROPERTIES (KAFKA_EXTRA_PROPERTIES)"; cat "$KAFKA_EXTRA_PROPERTIES"; } \
      >>"$STATE/server.properties"
  fi
  if [[ ! -f $STATE/data/meta.properties ]]; then
    say "formatting KRaft storage in $STATE/data"
    local scram=() line
    while IFS= read -r line; do
      if [[ -n $line ]]; then scram+=(--add-scram "$line"); fi
    done <<<"${KAFKA_FORMAT_SCRAM:-}"
    java -cp "$JARS/*" -Dlog4j2.configurationFile="$DEPLOY/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
      kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$STATE/server.properties" --ignore-formatted \
      "${scram[@]}" >&2
  fi
  echo "$p" >"$PORT_FILE"
  rm -f "$PID_FILE"
  say "starting Kafka $VERSION on 127.0.0.1:$p (logs: $LOGS)"
  # New session, stdio to the log file, lock fd closed: the broker outlives the caller
  # (npm run, CI step) without holding its stdout pipe or our start/stop lock. The inner shell writes its own
  # pid, which exec turns into the JVM's pid.
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DEPLOY/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$JARS/*" kafka.Kafka "$STATE/server.properties" \
    </dev/null >>"$LOGS/kafka.out" 2>&1 9>&- &
  local t0=$SECONDS
  until [[ -s $PID_FILE ]]; do sleep 0.05; done
  wait_ready "$p"
  say "ready in $((SECONDS - t0))s"
  echo "KAFKA_BROKERS=127.0.0.1:$p"
}

stop() {
  running || { rm -f "$PID_FILE"; say "not running"; return 0; }
  local pid i
  pid="$(cat "$PID_FILE")"
  say "stopping broker pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "no exit after 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
}

status() {
  if running; then
    echo "running KAFKA_BROKERS=127.0.0.1:$(port) pid=$(cat "$PID_FILE")"
  else
    echo "stopped"
    return 1
  fi
}

cmd="${1:-}"
case "$cmd" in
  classpath) echo "$JARS/*"; exit 0 ;;
  status) status; exit $? ;;
  start | stop | restart | reset) ;;
  *) echo "usage: $0 start|stop|status|restart|reset|classpath" >&2; exit 2 ;;
esac

# Serialise start/stop so parallel test runners cannot launch two brokers on one state dir.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  reset) stop; rm -rf "$STATE"; say "state dir $STATE deleted" ;;
esac
