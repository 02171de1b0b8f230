#!/usr/bin/env bash
# Drill (d): pg_dump -Fc of a demo database, pg_restore into a new database as the owner of two
# drill roles (docs/operations.md §2.4), exact row counts of every table compared, the
# application role granted its rights, the audit chain held to the head taken before the dump
# (`flask audit verify --expect`) and the application role's refusals checked. The full,
# encrypted procedure is docs/operations.md §6 (restore drill).
source "$(dirname "$0")/_env.sh"
SRC="${DRILL_SOURCE_DB:-simpul_drill_rollup}"
DST="${DRILL_DB:-simpul_drill_restore}"
DUMP="/tmp/simpul-drill-$SRC.dump"
OWNER="${DST}_owner"
APP="${DST}_app"
SERVER="${PG_ADMIN#postgresql://}"; SERVER="${SERVER#*@}"   # host:port of the drill's server
counts() {  # every table of the public schema with its exact row count
  psql "$PG_ADMIN/$1" -qAt -c "SELECT string_agg(format('SELECT %L, count(*) FROM %I', tablename, tablename), ' UNION ALL ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
    | psql "$PG_ADMIN/$1" -qAt -F ' ' | sort
}
drop_restore() {  # the restored database and the drill's two roles
  drop_db "$DST" >/dev/null 2>&1 || true
  psql "$PG_ADMIN/postgres" -qAt -c "DROP ROLE IF EXISTS \"$APP\"" -c "DROP ROLE IF EXISTS \"$OWNER\"" >/dev/null 2>&1 || true
}
trap 'drop_restore; rm -f "$DUMP"' EXIT
HEAD=$(DATABASE_URL="$PG_ADMIN/$SRC" "$FLASK" audit head)
echo "[$(ts)] audit chain head of $SRC before the dump: $HEAD"
start=$(date +%s.%N)
pg_dump --format=custom --dbname="$PG_ADMIN/$SRC" --file="$DUMP"
echo "[$(ts)] pg_dump -Fc $SRC: $(du -h "$DUMP" | cut -f1) in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
drop_restore
psql "$PG_ADMIN/postgres" -qAt \
  -c "CREATE ROLE \"$OWNER\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" \
  -c "CREATE ROLE \"$APP\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" \
  -c "CREATE DATABASE \"$DST\" OWNER \"$OWNER\"" \
  -c "REVOKE ALL ON DATABASE \"$DST\" FROM PUBLIC" \
  -c "GRANT CONNECT ON DATABASE \"$DST\" TO \"$APP\""
psql "$PG_ADMIN/$DST" -qAt -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC" -c "ALTER SCHEMA public OWNER TO \"$OWNER\""
start=$(date +%s.%N)
pg_restore --exit-on-error --no-owner --no-acl --role="$OWNER" --dbname="$PG_ADMIN/$DST" "$DUMP"
echo "[$(ts)] pg_restore into $DST as $OWNER in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
counts "$SRC" > /tmp/simpul-drill-counts-src; counts "$DST" > /tmp/simpul-drill-counts-dst
echo "tables: $(wc -l < /tmp/simpul-drill-counts-src), rows: $(awk '{s+=$2} END {print s}' /tmp/simpul-drill-counts-src)"
grep -E "^(cases|audit_entries|indicator_values|users|outbox|alembic_version) " /tmp/simpul-drill-counts-dst | sed 's/^/  restored /'
if diff /tmp/simpul-drill-counts-src /tmp/simpul-drill-counts-dst; then
  echo "RESULT: every table has the same row count in the restored database"
else
  echo "RESULT: ROW COUNTS DIFFER"; exit 1
fi
export DATABASE_URL="postgresql://$APP@$SERVER/$DST" DATABASE_OWNER_URL="postgresql://$OWNER@$SERVER/$DST"
"$FLASK" db grant-app-role | sed 's/^/  /'
echo "[$(ts)] flask audit verify --expect $HEAD (as $APP)"
DATABASE_OWNER_URL= "$FLASK" audit verify --expect "$HEAD" | sed 's/^/  /'
refused=0
for sql in "UPDATE consent_entries SET decision = 'menolak'" "DELETE FROM case_transitions" \
           "TRUNCATE audit_entries" "ALTER TABLE audit_entries DISABLE TRIGGER USER"; do
  if psql "$DATABASE_URL" -qAt -c "$sql" >/dev/null 2>&1; then
    echo "  ACCEPTED as $APP: $sql"
  else
    refused=$((refused + 1))
  fi
done
if [ "$refused" -eq 4 ]; then
  echo "RESULT: audit chain holds the head taken before the dump; $APP refused 4 of 4 rewrites"
else
  echo "RESULT: THE APPLICATION ROLE COULD REWRITE HISTORY"; exit 1
fi
