#!/usr/bin/env bash
# Drill (c): PostgreSQL restarted (pg_ctl restart -m fast) under a stream of committed writes,
# on a throw-away cluster of the drill's own (port 5499); no committed write may be lost.
source "$(dirname "$0")/_env.sh"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
DATA="${DRILL_PGDATA:-/tmp/pgdrill}"
PORT="${DRILL_PGPORT:-5499}"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rm -rf "$DATA"; mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA"
as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
as_pg "$BIN/pg_ctl" -D "$DATA" -o "-p $PORT -k /tmp" -l "$DATA/log" -w start >/dev/null
trap 'as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DATA"' EXIT
export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres" REDIS_URL=
echo "[$(ts)] cluster $DATA on port $PORT started; writer runs 12 s"
$PY scripts/drills/pg_writer.py 12 &
W=$!
sleep 4
echo "[$(ts)] pg_ctl restart -m fast"
as_pg "$BIN/pg_ctl" -D "$DATA" -o "-p $PORT -k /tmp" -l "$DATA/log" -m fast -w restart >/dev/null
echo "[$(ts)] restarted"
wait "$W"
