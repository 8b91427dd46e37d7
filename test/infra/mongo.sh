#!/usr/bin/env bash
# A MongoDB-wire-compatible server with change streams for the MongoDB source's tests: mongo-java-server (in-memory,
# with its oplog) behind test/infra/mongo/src/.../MongoTestServer.java, built with Maven (dependencies from Maven
# Central, cached in ~/.m2; the build in $MERKLESYNC_MONGO_CACHE, default ~/.cache/merklesync/mongo-test-server).
# No mongod is installable from this machine's registries; see libs/sources/README.md "MongoDB source" for what
# this server does not do like MongoDB.
#
#   bash test/infra/mongo.sh start|stop|status      # 127.0.0.1:$MONGO_PORT (27117), heap $MONGO_HEAP (128m)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="$ROOT/test/infra/mongo"
CACHE="${MERKLESYNC_MONGO_CACHE:-$HOME/.cache/merklesync/mongo-test-server}"
RUN="$ROOT/tmp/mongo"
PORT="${MONGO_PORT:-27117}"
HEAP="${MONGO_HEAP:-128m}"
log() { echo "mongo.sh: $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

build() {
  local stamp
  stamp="$(cat "$SRC/pom.xml" "$SRC"/src/main/java/io/merklesync/test/*.java | sha256sum | cut -c1-16)"
  if [ -f "$CACHE/$stamp/.complete" ]; then echo "$CACHE/$stamp"; return 0; fi
  log "building the test server with Maven into $CACHE/$stamp"
  rm -rf "$CACHE/$stamp" && mkdir -p "$CACHE/$stamp"
  mvn -q -B -f "$SRC/pom.xml" package dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE/$stamp/lib" "-Dbuild.dir=$CACHE/$stamp/target" >&2
  cp "$CACHE/$stamp/target/mongo-test-server-1.jar" "$CACHE/$stamp/lib/"
  touch "$CACHE/$stamp/.complete"
  echo "$CACHE/$stamp"
}

start() {
  local dir
  dir="$(build)"
  if port_open; then log "something already listens on 127.0.0.1:$PORT"; [ -f "$RUN/mongo.pid" ] && return 0; return 1; fi
  mkdir -p "$RUN"
  nohup java -Xms32m "-Xmx$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$dir/lib/*" io.merklesync.test.MongoTestServer "$PORT" >"$RUN/mongo.log" 2>&1 &
  echo $! >"$RUN/mongo.pid"
  local deadline=$((SECONDS + 60))
  until port_open; do
    if ! kill -0 "$(cat "$RUN/mongo.pid")" 2>/dev/null; then log "server exited:"; tail -n 20 "$RUN/mongo.log" >&2; return 1; fi
    if [ "$SECONDS" -ge "$deadline" ]; then log "no answer on $PORT in 60 s"; return 1; fi
    sleep 0.3
  done
  log "up: mongodb://127.0.0.1:$PORT (mongo-java-server)"
}

stop() {
  if [ -f "$RUN/mongo.pid" ]; then
    local pid; pid="$(cat "$RUN/mongo.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$RUN"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  build) build >/dev/null ;;
  status) if port_open; then echo "mongo.sh: up"; else echo "mongo.sh: down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|build" >&2; exit 2 ;;
esac
