#!/bin/sh
# Compose only: run `flask --app wsgi ARGS...` as the owner of the database (the `migrate`
# service), with DATABASE_OWNER_URL built from the owner's password in the Compose secret.
# The password must be URL-safe (python3 -c "import secrets; print(secrets.token_urlsafe(32))").
set -eu
password=$(cat /run/secrets/simpul_owner_db_password)
[ -n "$password" ] || { echo "the secret simpul_owner_db_password is empty" >&2; exit 1; }
DATABASE_OWNER_URL="postgresql+psycopg://simpul:${password}@postgres:5432/simpul"
export DATABASE_OWNER_URL
exec flask --app wsgi "$@"
