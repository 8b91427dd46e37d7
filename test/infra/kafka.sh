#!/usr/bin/env bash
# Apache Kafka (KRaft, one combined broker+controller), Kafka Connect (distributed, one worker) and the Debezium
# PostgreSQL connector on loopback, for the Debezium integration and end-to-end tests and bench:pipeline.
#
#   bash test/infra/kafka.sh fetch     # resolve the jars with Maven into the cache (once; ~80 MB)
#   bash test/infra/kafka.sh start     # fetch if needed, start broker + Connect, wait until both answer
#   bash test/infra/kafka.sh status    # exit 0 when broker and Connect answer
#   bash test/infra/kafka.sh stop      # stop what `start` started (by the pids it wrote) and remove its data
#
# Jars come from Maven Central through test/infra/kafka/pom.xml into $MERKLESYNC_KAFKA_CACHE
# (default ~/.cache/merklesync/kafka/<kafka>-<debezium>), reused between runs. Runtime files (config, data, logs,
# pids) live in tmp/kafka/ of this checkout. Ports: broker 127.0.0.1:$KAFKA_PORT (19092), controller 19093,
# Connect REST 127.0.0.1:$CONNECT_PORT (18083). Heaps are small (KAFKA_HEAP / CONNECT_HEAP, default 384m).
# Connectors are registered by the tests themselves (PUT /connectors/<name>/config with
# deploy/debezium/connector.json plus their own database, slot and topic prefix).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
POM="$ROOT/test/infra/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
DEBEZIUM_VERSION="$(sed -n 's:.*<debezium.version>\(.*\)</debezium.version>.*:\1:p' "$POM")"
CACHE="${MERKLESYNC_KAFKA_CACHE:-$HOME/.cache/merklesync/kafka/$KAFKA_VERSION-$DEBEZIUM_VERSION}"
RUN="$ROOT/tmp/kafka"
KAFKA_PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
CONNECT_PORT="${CONNECT_PORT:-18083}"
KAFKA_HEAP="${KAFKA_HEAP:-384m}"
CONNECT_HEAP="${CONNECT_HEAP:-384m}"

log() { echo "kafka.sh: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
connect_up() { curl -fsS -m 2 "http://127.0.0.1:$CONNECT_PORT/connector-plugins" 2>/dev/null | grep -q PostgresConnector; }

wait_for() { # wait_for SECONDS what pidfile command...
  local deadline=$((SECONDS + $1)) what=$2 pidfile=$3; shift 3
  until "$@"; do
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "$what exited during start-up; last log lines:"; tail -n 40 "$RUN/$what.log" >&2 || true; return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then log "$what did not come up in $1 s; see $RUN/$what.log"; return 1; fi
    sleep 0.5
  done
}

fetch() {
  if [ -f "$CACHE/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn is required to fetch Kafka and Debezium"; return 1; }
  log "resolving Kafka $KAFKA_VERSION and Debezium $DEBEZIUM_VERSION with Maven into $CACHE"
  rm -rf "$CACHE.partial" && mkdir -p "$CACHE.partial"
  mvn -q -B -f "$POM" -Pbroker dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE.partial/lib"
  mvn -q -B -f "$POM" -Pdebezium dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE.partial/plugins/debezium-connector-postgres"
  touch "$CACHE.partial/.complete"
  rm -rf "$CACHE" && mv "$CACHE.partial" "$CACHE"
}

java_run() { # java_run NAME HEAP MAINCLASS ARGS... (background, pid in $RUN/NAME.pid)
  local name=$1 heap=$2; shift 2
  nohup java -Xms64m "-Xmx$heap" -XX:+UseSerialGC -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$RUN/log4j2.properties" -cp "$CACHE/lib/*" "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

write_config() {
  mkdir -p "$RUN/data" "$RUN/connect"
  cat >"$RUN/log4j2.properties" <<EOF
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c{1})%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.kafka.name = org.apache.kafka
logger.kafka.level = warn
logger.state.name = kafka
logger.state.level = warn
logger.connect.name = org.apache.kafka.connect.runtime.WorkerSourceTask
logger.connect.level = info
EOF
  cat >"$RUN/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$RUN/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=2
log.retention.hours=24
EOF
  cat >"$RUN/connect.properties" <<EOF
bootstrap.servers=127.0.0.1:$KAFKA_PORT
group.id=merklesync-test-connect
listeners=http://127.0.0.1:$CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$CONNECT_PORT
plugin.path=$CACHE/plugins
plugin.discovery=only_scan
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
config.storage.topic=_connect_configs
offset.storage.topic=_connect_offsets
status.storage.topic=_connect_status
config.storage.replication.factor=1
offset.storage.replication.factor=1
offset.storage.partitions=1
status.storage.replication.factor=1
status.storage.partitions=1
offset.flush.interval.ms=1000
producer.linger.ms=10
producer.batch.size=524288
config.providers=env
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
EOF
}

start() {
  fetch
  if port_open "$KAFKA_PORT" && connect_up; then log "already running (broker :$KAFKA_PORT, Connect :$CONNECT_PORT)"; return 0; fi
  if port_open "$KAFKA_PORT" || port_open "$CONNECT_PORT"; then
    log "port $KAFKA_PORT or $CONNECT_PORT is taken by something this script did not start"; return 1
  fi
  stop_processes
  rm -rf "$RUN"
  write_config
  log "formatting KRaft storage"
  java -Xmx128m -cp "$CACHE/lib/*" "-Dlog4j2.configurationFile=$RUN/log4j2.properties" kafka.tools.StorageTool \
    format -t "$(cat /proc/sys/kernel/random/uuid | tr -d - | head -c 22)" -c "$RUN/server.properties" >"$RUN/format.log" 2>&1 \
    || { cat "$RUN/format.log" >&2; return 1; }
  log "starting broker on 127.0.0.1:$KAFKA_PORT (heap $KAFKA_HEAP)"
  java_run broker "$KAFKA_HEAP" kafka.Kafka "$RUN/server.properties"
  wait_for 90 broker "$RUN/broker.pid" port_open "$KAFKA_PORT"
  log "starting Kafka Connect on 127.0.0.1:$CONNECT_PORT (heap $CONNECT_HEAP)"
  java_run connect "$CONNECT_HEAP" org.apache.kafka.connect.cli.ConnectDistributed "$RUN/connect.properties"
  wait_for 180 connect "$RUN/connect.pid" connect_up
  log "up: broker 127.0.0.1:$KAFKA_PORT, Connect http://127.0.0.1:$CONNECT_PORT (Debezium $DEBEZIUM_VERSION)"
}

stop_one() { # stop_one NAME: TERM, wait up to 30 s, then KILL
  local pidfile="$RUN/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_processes() { stop_one connect; stop_one broker; }

stop() {
  stop_processes
  rm -rf "$RUN"
  log "stopped"
}

status() { port_open "$KAFKA_PORT" && connect_up; }

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) if status; then echo "kafka.sh: up"; else echo "kafka.sh: down"; exit 1; fi ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
