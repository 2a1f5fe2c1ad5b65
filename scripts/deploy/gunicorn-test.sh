#!/usr/bin/env bash
# The smoke test against real gunicorn from the project's .venv (several workers) on a real PostgreSQL (the
# embedded one, in a temporary data directory), then SIGTERM: it must stop cleanly.
source "$(dirname "$0")/lib.sh"
ensure_jq
[ -x "$ROOT/.venv/bin/agno-session" ] || die "no .venv: run make install first"
data="$(mktemp -d)"
port="$(free_port)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  # the embedded PostgreSQL outlives the server by design; stop it before its directory goes
  [ -f "$data/pgdata/postmaster.pid" ] && kill "$(head -1 "$data/pgdata/postmaster.pid")" 2>/dev/null && sleep 1
  rm -rf "$data"
}
trap cleanup EXIT
step "gunicorn: agno-session serve on 127.0.0.1:$port (3 workers, embedded PostgreSQL)"
AGNO_DATA_DIR="$data" AGNO_SERVICE_HOST=127.0.0.1 "$ROOT/.venv/bin/agno-session" serve --port "$port" --workers 3 \
  2>"$data/server.log" &
pid=$!
wait_http "http://127.0.0.1:$port/readyz" 90 || { tail -20 "$data/server.log" >&2; die "gunicorn never ready"; }
step "gunicorn: smoke test"
"$ROOT/scripts/test-session-api.sh" "http://127.0.0.1:$port"
step "gunicorn: SIGTERM"
kill -TERM "$pid"
wait "$pid" && code=0 || code=$?
pid=""
[ "$code" = 0 ] || die "gunicorn exited $code after SIGTERM"
step "gunicorn: stopped cleanly on SIGTERM"
