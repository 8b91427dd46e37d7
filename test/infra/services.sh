#!/usr/bin/env bash
# Makes this machine's PostgreSQL and NATS ready for MerkleSync's integration tests (idempotent):
# - PostgreSQL on 127.0.0.1:5432 running, with wal_level=logical (logical replication for ingest) and sized for
#   the store's writes (shared_buffers, max_wal_size, checkpoint_timeout, wal_compression);
# - NATS on 127.0.0.1:4222 running with JetStream.
# Used by .ci/run and by developers: bash test/infra/services.sh
set -euo pipefail

PG_VERSION="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
psql_q() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc "$1"; }
wait_for() { # wait_for SECONDS what command...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "services: $what did not come up" >&2; return 1; fi
    sleep 0.5
  done
}

if ! psql_q 'select 1' >/dev/null 2>&1; then
  echo "services: starting PostgreSQL $PG_VERSION"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
  wait_for 60 PostgreSQL psql_q 'select 1'
fi
# wal_level=logical for ingest; the rest sizes the server for MerkleSync's write-heavy store (the merkle service
# writes several map-node rows per change; a 100k-change benchmark run writes ≈ 260 MB of WAL, source included):
# room for WAL between checkpoints (fewer checkpoints, so fewer full-page images of the randomly touched index
# pages), compressed full-page images, and buffers that hold the map-node index. README "PostgreSQL settings".
SETTINGS=(wal_level=logical shared_buffers=1GB max_wal_size=8GB checkpoint_timeout=15min wal_compression=lz4)
restart=no
for kv in "${SETTINGS[@]}"; do
  if [ "$(psql_q "show ${kv%%=*}")" != "${kv#*=}" ]; then
    psql_q "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'"
    restart=yes
  fi
done
if [ "$restart" = yes ]; then
  echo "services: setting ${SETTINGS[*]} and restarting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main restart
  wait_for 60 PostgreSQL psql_q 'select 1'
fi
# Password authentication for three test roles only (the proxy's pass-through tests): cleartext, md5 and
# SCRAM-SHA-256 against the real server. pg_hba.conf takes the first matching line, so these go first; every other
# role keeps the machine's trust rule. Idempotent (marker line).
HBA="$(psql_q 'show hba_file')"
if ! grep -q '^# merklesync test auth roles' "$HBA"; then
  echo "services: adding password-auth test roles to $HBA"
  { echo '# merklesync test auth roles (test/infra/services.sh)'
    echo 'host all ms_auth_password 127.0.0.1/32 password'
    echo 'host all ms_auth_md5 127.0.0.1/32 md5'
    echo 'host all ms_auth_scram 127.0.0.1/32 scram-sha-256'
    cat "$HBA"; } > "$HBA.ms-tmp" && cat "$HBA.ms-tmp" > "$HBA" && rm -f "$HBA.ms-tmp"
  psql_q 'select pg_reload_conf()' >/dev/null
fi
echo "services: PostgreSQL $(psql_q 'show server_version') wal_level=$(psql_q 'show wal_level') shared_buffers=$(psql_q 'show shared_buffers') max_wal_size=$(psql_q 'show max_wal_size')"

nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_up; then
  echo "services: starting NATS with JetStream"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for 30 NATS nats_up
fi
echo "services: NATS on 127.0.0.1:4222"
