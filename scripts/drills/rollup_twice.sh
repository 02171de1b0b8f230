#!/usr/bin/env bash
# Drill (a): the same rollup run twice gives identical rows (a re-delivered or repeated rollup
# task is harmless). Also covered by tests/indicators/test_rollup.py::
# test_rollup_twice_gives_identical_rows.
source "$(dirname "$0")/_env.sh"
DB="${DRILL_DB:-simpul_drill_rollup}"
export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DB" REDIS_URL=
fresh_db "$DB"
$FLASK db upgrade 2>&1 | tail -1
$FLASK demo load | head -1
snapshot() {  # every stored value, every column (ids and computed_at too), as one digest
  psql "$PG_ADMIN/$DB" -qAt -c "COPY (SELECT * FROM indicator_values ORDER BY id) TO STDOUT" | sha256sum | cut -c1-16
}
for run in 1 2; do
  echo "[$(ts)] rollup run $run: $($FLASK indicators rollup --period 2025)"
  $FLASK indicators show --period 2025 --region nasional > "/tmp/simpul-drill-show-$run.json"
  echo "  rows: $(psql "$PG_ADMIN/$DB" -qAt -c 'SELECT count(*) FROM indicator_values')," \
       "table digest: $(snapshot), show digest: $(sha256sum < /tmp/simpul-drill-show-$run.json | cut -c1-16)"
done
if cmp -s /tmp/simpul-drill-show-1.json /tmp/simpul-drill-show-2.json; then
  echo "RESULT: identical (indicators show JSON byte-identical, table digests above)"
else
  echo "RESULT: DIFFERENT"; diff /tmp/simpul-drill-show-1.json /tmp/simpul-drill-show-2.json | head; exit 1
fi
