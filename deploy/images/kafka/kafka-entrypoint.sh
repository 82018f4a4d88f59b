#!/bin/bash
# Single-node KRaft broker: renders server.properties, formats the data volume on first start, then execs the JVM
# (PID 1, so SIGTERM reaches Kafka's controlled shutdown).
# Env: KAFKA_ADVERTISED_HOST (kafka), KAFKA_CLUSTER_ID (fixed), KAFKA_HEAP_OPTS, KAFKA_NUM_PARTITIONS (6).
set -euo pipefail
home=/var/lib/kafka
cluster_id="${KAFKA_CLUSTER_ID:-Z3JpZHN0cmVhbS1rYWZrYQ}"
cat >"$home/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
# Clients on the compose network; the controller listener stays inside the container.
listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://${KAFKA_ADVERTISED_HOST:-kafka}:9092
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
# One broker: internal topics cannot have 3 replicas.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# gridstream creates its topics explicitly; a typo must fail, not invent a topic.
auto.create.topics.enable=false
num.partitions=${KAFKA_NUM_PARTITIONS:-6}
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
PROPS
jvm=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*')
if [[ ! -f $home/data/meta.properties ]]; then
  "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$home/server.properties" --ignore-formatted
fi
exec "${jvm[@]}" kafka.Kafka "$home/server.properties"
