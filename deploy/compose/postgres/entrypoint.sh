#!/bin/sh
# First start: initdb with the official image's variables (password from POSTGRES_PASSWORD_FILE), password auth
# for every remote client, the named database created. Every start: PostgreSQL in the foreground.
set -eu
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password="$(cat "$POSTGRES_PASSWORD_FILE")"; else password="${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD_FILE or POSTGRES_PASSWORD}"; fi
  pwfile="$(mktemp)"
  printf '%s\n' "$password" > "$pwfile"
  # UTF8 as the official image does: the minimal base has no locale, and SQL_ASCII makes psycopg 3 (AgentOS)
  # hand text back as bytes, which agno 3.1.10 cannot read ("cannot use a string pattern on a bytes-like object").
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$db" != "postgres" ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    createdb -U "$user" "$db"
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
