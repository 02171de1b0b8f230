#!/bin/bash
# Compose only, first start of an empty data volume (the postgres image runs the files of
# /docker-entrypoint-initdb.d once, as the superuser): the two roles of docs/operations.md §2.4
# and the database, owned by the owner. The application role gets its table rights from
# `flask db upgrade` (the migrate service).
set -euo pipefail
owner_password=$(cat /run/secrets/simpul_owner_db_password)
: "${SIMPUL_APP_DB_PASSWORD:?SIMPUL_APP_DB_PASSWORD is not set}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$owner_password" -v app_password="$SIMPUL_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE simpul LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE simpul_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE simpul OWNER simpul ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE simpul FROM PUBLIC;
GRANT CONNECT ON DATABASE simpul TO simpul_app;
\c simpul
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO simpul;
SQL
