# Shared settings of the reliability drills (sourced). Everything runs on databases, Redis
# servers and PostgreSQL clusters of the drill's own; the shared services are never stopped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
FLASK="$ROOT/.venv/bin/flask"
PG_ADMIN="${PG_ADMIN:-postgresql://postgres@127.0.0.1:5432}"
export PYTHONPATH="$ROOT" FLASK_APP=wsgi:app APP_ENV=development LOG_LEVEL=WARNING MAIL_BACKEND=none
export SIMPUL_INSTANCE_PATH="${SIMPUL_INSTANCE_PATH:-/tmp/simpul-drill-instance}"
mkdir -p "$SIMPUL_INSTANCE_PATH"

fresh_db() {  # fresh_db NAME: an empty database of the drill's own on the main server
  psql "$PG_ADMIN/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\""
}
drop_db() { psql "$PG_ADMIN/postgres" -qAt -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"; }

start_redis() {  # start_redis PORT: a private, non-persistent redis-server
  local dir="/tmp/simpul-drill-redis-$1"
  mkdir -p "$dir"
  redis-server --port "$1" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$dir" --pidfile "$dir/redis.pid" >/dev/null
  until redis-cli -p "$1" ping >/dev/null 2>&1; do sleep 0.1; done
}
stop_redis() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; }

ts() { date +%H:%M:%S.%3N; }
