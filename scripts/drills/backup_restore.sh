#!/usr/bin/env bash
# Drill (d): pg_dump -Fc of a demo database and a tar of its files (attachments and reports);
# pg_restore into a new database as the owner of two drill roles (docs/operations.md §2.4) and the
# tar into a new directory; exact row counts of every table compared; the application role granted
# its rights, the audit chain held to the head taken before the dump (`flask audit verify
# --expect`) and the application role's refusals checked; then the restored files compared with
# the restored `attachments` rows (`flask attachments check`), once as restored and once with a
# file removed and a stray one added, which the check must catch. The full, encrypted procedure is
# docs/operations.md §6 (restore drill).
source "$(dirname "$0")/_env.sh"
SRC="${DRILL_SOURCE_DB:-simpul_drill_rollup}"
DST="${DRILL_DB:-simpul_drill_restore}"
FILES="${DRILL_FILES:-$SIMPUL_INSTANCE_PATH}"  # holds uploads/ and reports/ of the source
DUMP="/tmp/simpul-drill-$SRC.dump"
ARCHIVE="/tmp/simpul-drill-$SRC-files.tar"
RESTORED="/tmp/simpul-drill-restored-files"
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
trap 'drop_restore; rm -rf "$DUMP" "$ARCHIVE" "$RESTORED"' EXIT
HEAD=$(DATABASE_URL="$PG_ADMIN/$SRC" "$FLASK" audit head)
echo "[$(ts)] audit chain head of $SRC before the dump: $HEAD"
start=$(date +%s.%N)
pg_dump --format=custom --dbname="$PG_ADMIN/$SRC" --file="$DUMP"
echo "[$(ts)] pg_dump -Fc $SRC: $(du -h "$DUMP" | cut -f1) in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
mkdir -p "$FILES/uploads" "$FILES/reports"
tar --create --file="$ARCHIVE" --directory="$FILES" uploads reports
echo "[$(ts)] tar of uploads/ and reports/: $(tar -tf "$ARCHIVE" | grep -vc '/$') files, $(du -h "$ARCHIVE" | cut -f1)"
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
rm -rf "$RESTORED"; mkdir -p "$RESTORED"; tar -xf "$ARCHIVE" -C "$RESTORED"
counts "$SRC" > /tmp/simpul-drill-counts-src; counts "$DST" > /tmp/simpul-drill-counts-dst
echo "tables: $(wc -l < /tmp/simpul-drill-counts-src), rows: $(awk '{s+=$2} END {print s}' /tmp/simpul-drill-counts-src)"
grep -E "^(attachments|cases|audit_entries|indicator_values|users|outbox|alembic_version) " /tmp/simpul-drill-counts-dst | sed 's/^/  restored /'
status=0
if diff /tmp/simpul-drill-counts-src /tmp/simpul-drill-counts-dst; then
  echo "RESULT: every table has the same row count in the restored database"
else
  echo "RESULT: ROW COUNTS DIFFER"; status=1
fi
export DATABASE_URL="postgresql://$APP@$SERVER/$DST" DATABASE_OWNER_URL="postgresql://$OWNER@$SERVER/$DST"
"$FLASK" db grant-app-role | sed 's/^/  /'
echo "[$(ts)] flask audit verify --expect $HEAD (as $APP)"
if DATABASE_OWNER_URL= "$FLASK" audit verify --expect "$HEAD" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "RESULT: THE RESTORED AUDIT LOG DOES NOT HOLD THE HEAD"; status=1
fi
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
  echo "RESULT: THE APPLICATION ROLE COULD REWRITE HISTORY"; status=1
fi
check() {  # the restored files against the restored database, as the application role
  DATABASE_OWNER_URL= UPLOAD_DIR="$RESTORED/uploads" REPORT_DIR="$RESTORED/reports" \
    "$FLASK" attachments check
}
echo "[$(ts)] flask attachments check (restored files vs restored rows):"
if check | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  echo "RESULT: every attachment row has its file (size and SHA-256 after decryption), no file without a row"
else
  echo "RESULT: FILES AND ROWS DIFFER"; status=1
fi
# the control: the check must notice a lost file and a stray one
victim=$(find "$RESTORED/uploads" -maxdepth 1 -type f | sort | head -1)
if [ -n "$victim" ]; then
  rm "$victim"; echo stray > "$RESTORED/uploads/stray-file"
  echo "[$(ts)] control: removed $(basename "$victim"), added stray-file"
  if check | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -ne 0 ]; then
    echo "RESULT: the check caught both (exit status 1)"
  else
    echo "RESULT: THE CHECK MISSED A DAMAGED RESTORE"; status=1
  fi
fi
exit "$status"
