#!/usr/bin/env bash
# Drill (d): pg_dump -Fc of a demo database, pg_restore into a new database, exact row counts of
# every table compared. The full, encrypted procedure is docs/operations.md §6 (restore drill).
source "$(dirname "$0")/_env.sh"
SRC="${DRILL_SOURCE_DB:-simpul_drill_rollup}"
DST="${DRILL_DB:-simpul_drill_restore}"
DUMP="/tmp/simpul-drill-$SRC.dump"
counts() {  # every table of the public schema with its exact row count
  psql "$PG_ADMIN/$1" -qAt -c "SELECT string_agg(format('SELECT %L, count(*) FROM %I', tablename, tablename), ' UNION ALL ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
    | psql "$PG_ADMIN/$1" -qAt -F ' ' | sort
}
start=$(date +%s.%N)
pg_dump --format=custom --dbname="$PG_ADMIN/$SRC" --file="$DUMP"
echo "[$(ts)] pg_dump -Fc $SRC: $(du -h "$DUMP" | cut -f1) in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
fresh_db "$DST" 2>/dev/null
start=$(date +%s.%N)
pg_restore --exit-on-error --no-owner --no-acl --dbname="$PG_ADMIN/$DST" "$DUMP"
echo "[$(ts)] pg_restore into $DST in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
counts "$SRC" > /tmp/simpul-drill-counts-src; counts "$DST" > /tmp/simpul-drill-counts-dst
echo "tables: $(wc -l < /tmp/simpul-drill-counts-src), rows: $(awk '{s+=$2} END {print s}' /tmp/simpul-drill-counts-src)"
grep -E "^(cases|audit_entries|indicator_values|users|outbox|alembic_version) " /tmp/simpul-drill-counts-dst | sed 's/^/  restored /'
if diff /tmp/simpul-drill-counts-src /tmp/simpul-drill-counts-dst; then
  echo "RESULT: every table has the same row count in the restored database"
else
  echo "RESULT: ROW COUNTS DIFFER"; exit 1
fi
drop_db "$DST"; rm -f "$DUMP"
