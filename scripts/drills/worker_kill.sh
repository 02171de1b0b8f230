#!/usr/bin/env bash
# Drill (b): a Celery worker killed (kill -9) in the middle of a long task; another worker picks
# the task up (acks late: the message was never acknowledged) and the job is done once.
source "$(dirname "$0")/_env.sh"
SRC="${DRILL_SOURCE_DB:-simpul_drill_rollup}"  # a demo database (rollup_twice.sh leaves one)
DB="${DRILL_DB:-simpul_drill_worker}"
PORT="${DRILL_REDIS_PORT:-6394}"
KILL_AT="${KILL_AT:-20}"  # percent of the job done when the worker is killed
psql "$PG_ADMIN/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
  -c "CREATE DATABASE \"$DB\" TEMPLATE \"$SRC\""
psql "$PG_ADMIN/$DB" -qAt -c "DELETE FROM indicator_values"
export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:$PORT/0"
start_redis "$PORT"
trap 'kill -9 -- -${A:-0} -${B:-0} 2>/dev/null || true; stop_redis "$PORT"' EXIT
worker() {  # worker NAME: a worker in a process group of its own, so kill -9 takes it whole
  PYTHONPATH="$ROOT/scripts/drills:$ROOT" setsid "$ROOT/.venv/bin/celery" -A drill_celery worker \
    -Q simpul --concurrency 1 -n "$1@drill" --loglevel INFO >"/tmp/simpul-drill-$1.log" 2>&1 &
  echo $!
}
values() { psql "$PG_ADMIN/$DB" -qAt -c "SELECT count(*) FROM indicator_values"; }
A=$(worker A); echo "[$(ts)] worker A started (pid $A)"
sleep 5
echo "[$(ts)] $($PY scripts/drills/job.py start 2025)"
JOB=$(psql "$PG_ADMIN/$DB" -qAt -c "SELECT max(id) FROM report_jobs")
until [ "$(psql "$PG_ADMIN/$DB" -qAt -c "SELECT progress FROM report_jobs WHERE id=$JOB")" -ge "$KILL_AT" ]; do
  sleep 0.2
done
echo "[$(ts)] before the kill: $($PY scripts/drills/job.py show "$JOB"), values stored: $(values)"
kill -9 -- -"$A"; echo "[$(ts)] kill -9 worker A (process group $A)"
sleep 1
echo "[$(ts)] redis: queued=$(redis-cli -p "$PORT" llen simpul) unacked=$(redis-cli -p "$PORT" hlen unacked)"
B=$(worker B); echo "[$(ts)] worker B started (pid $B)"
for _ in $(seq 1 60); do  # up to 2 minutes: 20 s visibility time-out, then the rollup itself
  sleep 2
  if grep -q "succeeded\|raised" /tmp/simpul-drill-B.log; then break; fi
done
echo "[$(ts)] after: $($PY scripts/drills/job.py show "$JOB"), values stored: $(values)"
echo "worker B log:"; grep -E "received|succeeded|raised|Restor" /tmp/simpul-drill-B.log | sed 's/^/  /'
echo "[$(ts)] redis: queued=$(redis-cli -p "$PORT" llen simpul) unacked=$(redis-cli -p "$PORT" hlen unacked)"
