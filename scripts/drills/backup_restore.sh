#!/usr/bin/env bash
# Drill (d): pg_dump -Fc of a demo database and a tar of its files (attachments and reports),
# pg_restore into a new database and the tar into a new directory; exact row counts of every table
# compared, then the restored files compared with the restored `attachments` rows
# (`flask attachments check`), once as restored and once with a file removed and a stray one
# added, which the check must catch. The full, encrypted procedure is docs/operations.md §6.
source "$(dirname "$0")/_env.sh"
SRC="${DRILL_SOURCE_DB:-simpul_drill_rollup}"
DST="${DRILL_DB:-simpul_drill_restore}"
FILES="${DRILL_FILES:-$SIMPUL_INSTANCE_PATH}"  # holds uploads/ and reports/ of the source
DUMP="/tmp/simpul-drill-$SRC.dump"
ARCHIVE="/tmp/simpul-drill-$SRC-files.tar"
RESTORED="/tmp/simpul-drill-restored-files"
counts() {  # every table of the public schema with its exact row count
  psql "$PG_ADMIN/$1" -qAt -c "SELECT string_agg(format('SELECT %L, count(*) FROM %I', tablename, tablename), ' UNION ALL ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
    | psql "$PG_ADMIN/$1" -qAt -F ' ' | sort
}
start=$(date +%s.%N)
pg_dump --format=custom --dbname="$PG_ADMIN/$SRC" --file="$DUMP"
echo "[$(ts)] pg_dump -Fc $SRC: $(du -h "$DUMP" | cut -f1) in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
mkdir -p "$FILES/uploads" "$FILES/reports"
tar --create --file="$ARCHIVE" --directory="$FILES" uploads reports
echo "[$(ts)] tar of uploads/ and reports/: $(tar -tf "$ARCHIVE" | grep -vc '/$') files, $(du -h "$ARCHIVE" | cut -f1)"
fresh_db "$DST" 2>/dev/null
start=$(date +%s.%N)
pg_restore --exit-on-error --no-owner --no-acl --dbname="$PG_ADMIN/$DST" "$DUMP"
echo "[$(ts)] pg_restore into $DST in $(printf %.1f "$(echo "$(date +%s.%N) - $start" | bc)") s"
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
check() {  # the restored files against the restored database
  DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DST" \
    UPLOAD_DIR="$RESTORED/uploads" REPORT_DIR="$RESTORED/reports" $FLASK attachments check
}
echo "[$(ts)] flask attachments check (restored files vs restored rows):"
if check | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  echo "RESULT: every attachment row has its file (size and SHA-256), no file without a row"
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
drop_db "$DST"; rm -rf "$DUMP" "$ARCHIVE" "$RESTORED"
exit "$status"
