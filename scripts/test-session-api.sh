#!/usr/bin/env bash
# Smoke test of the whole /sessions API against a running service: scripts/test-session-api.sh BASE_URL [DB_ID]
# Prints each step; exits non-zero on the first unexpected answer. With OS_SECURITY_KEY set it also checks that
# requests without the key are refused, and sends the key on every other request. Needs curl and jq.
# SMOKE_SESSIONS_ONLY=1 leaves out this service's own paths (/healthz, /readyz, /metrics): for a run through the
# cut-over proxy, which sends everything but /sessions (and AgentOS's /health) to AgentOS.
set -euo pipefail

BASE="${1:?usage: $0 BASE_URL [DB_ID]}"
BASE="${BASE%/}"
DB_ID="${2:-}"
KEY="${OS_SECURITY_KEY:-}"
RUN="smoke-$(date +%s)-$$"  # ids unique to this run, so it can be repeated against the same database
SID="$RUN-a"
STEP=0
BODY="$(mktemp)"
trap 'rm -f "$BODY"' EXIT

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is required" >&2; exit 2; }
done

# call METHOD PATH EXPECTED_STATUS [JSON_BODY] [extra curl args...]: the answer's body lands in $BODY.
call() {
  local method="$1" path="$2" expected="$3" data="${4:-}" status
  shift 4 2>/dev/null || shift $#
  local args=(-sS -o "$BODY" -w '%{http_code}' -X "$method" --max-time 20 -H 'Accept: application/json')
  [ -n "$KEY" ] && args+=(-H "Authorization: Bearer $KEY")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  STEP=$((STEP + 1))
  status="$(curl "${args[@]}" "$@" "$BASE$path")" || { echo "FAIL [$STEP] $method $path: no answer" >&2; exit 1; }
  if [ "$status" != "$expected" ]; then
    echo "FAIL [$STEP] $method $path: status $status, expected $expected: $(head -c 500 "$BODY")" >&2
    exit 1
  fi
  printf 'ok   [%2d] %-6s %-58s %s\n' "$STEP" "$method" "$path" "$status"
}

# expect JQ_FILTER: the last answer's body must make the filter true.
expect() {
  if ! jq -e "$1" "$BODY" >/dev/null 2>&1; then
    echo "FAIL [$STEP] body does not satisfy $1: $(head -c 500 "$BODY")" >&2
    exit 1
  fi
}

q() { # the db_id query parameter (first or further), when one was given
  if [ -z "$DB_ID" ]; then echo "${1:-}"; elif [ -z "${1:-}" ]; then echo "?db_id=$DB_ID"; else echo "$1&db_id=$DB_ID"; fi
}

echo "smoke test of $BASE (run $RUN${DB_ID:+, db_id $DB_ID}${KEY:+, with a key})"

# health and readiness: open paths, no key needed
ONLY_SESSIONS="${SMOKE_SESSIONS_ONLY:-0}"
if [ "$ONLY_SESSIONS" != 1 ]; then
  call GET /healthz 200; expect '.status == "ok"'
  call GET /readyz 200; expect '.status == "ok" and (.databases | length) >= 1'
fi
call GET /health 200; expect '.status == "ok" and (.instantiated_at | type) == "string"'
if [ -n "$KEY" ]; then
  saved="$KEY"; KEY=""
  call GET /sessions 401; expect '.detail == "Authorization header required"'
  call GET /sessions 401 "" -H "Authorization: Bearer wrong-$RUN"; expect '.detail == "Invalid authentication token"'
  if [ "$ONLY_SESSIONS" != 1 ]; then
    call GET /readyz 200; expect '. == {"status": "ok"}'  # the databases are named to the key's bearer only
  fi
  KEY="$saved"
fi

# create: a plain session, and one with preloaded runs (extension)
call POST "/sessions$(q)" 201 "{\"session_id\":\"$SID\",\"session_name\":\"Smoke A\",\"user_id\":\"$RUN-user\",\"session_state\":{\"city\":\"Oslo\",\"cart\":{\"apples\":1}}}"
expect ".session_id == \"$SID\" and .session_name == \"Smoke A\" and .session_state.city == \"Oslo\""
call POST "/sessions$(q)" 201 "{\"session_id\":\"$RUN-b\",\"user_id\":\"$RUN-user\",\"agent_id\":\"smoke-agent\",\"runs\":[{\"run_id\":\"$RUN-r1\",\"agent_id\":\"smoke-agent\",\"status\":\"COMPLETED\",\"created_at\":1767225600,\"input\":{\"input_content\":\"hello there\"},\"content\":\"hi\",\"messages\":[{\"id\":\"$RUN-m1\",\"role\":\"user\",\"content\":\"hello there\",\"created_at\":1767225600},{\"id\":\"$RUN-m2\",\"role\":\"assistant\",\"content\":\"hi\",\"created_at\":1767225601}]}]}"
expect ".session_id == \"$RUN-b\""
call POST "/sessions$(q)" 201 "{\"session_id\":\"$RUN-c\",\"user_id\":\"$RUN-user\"}"

# list: filtered to this run's user, paginated, sorted
call GET "/sessions$(q "?user_id=$RUN-user&limit=2&page=1&sort_by=created_at&sort_order=asc")" 200
expect '(.data | length) == 2 and .meta.total_count == 3 and .meta.page == 1 and .meta.limit == 2'
call GET "/sessions$(q "?user_id=$RUN-user&session_name=Smoke")" 200
expect "[.data[].session_id] == [\"$SID\"]"

# get, runs, run previews, one run
call GET "/sessions/$SID$(q)" 200; expect ".session_id == \"$SID\" and .session_name == \"Smoke A\""
call GET "/sessions/$RUN-b$(q)" 200; expect '.session_name == "hello there" and (.chat_history | length) == 2'
call GET "/sessions/$RUN-b/runs$(q)" 200; expect "length == 1 and .[0].run_id == \"$RUN-r1\""
call GET "/sessions/$RUN-b/run-previews$(q)" 200; expect 'type == "array" and length == 1'
call GET "/sessions/$RUN-b/runs/$RUN-r1$(q)" 200; expect ".run_id == \"$RUN-r1\" and .content == \"hi\""

# rename, PATCH, state merge (extension)
call POST "/sessions/$SID/rename$(q)" 200 '{"session_name":"Smoke renamed"}'; expect '.session_name == "Smoke renamed"'
call PATCH "/sessions/$SID$(q)" 200 '{"metadata":{"smoke":true},"session_state":{"city":"Bergen","cart":{"apples":1}}}'
expect '.metadata.smoke == true and .session_state.city == "Bergen"'
call PATCH "/sessions/$SID/state$(q)" 200 '{"cart":{"plums":2},"city":null}'
expect '.session_state == {"cart":{"apples":1,"plums":2}}'

# error cases: AgentOS's wordings
call GET "/sessions/$RUN-absent$(q)" 404; expect ".detail == \"Session with id '$RUN-absent' not found\""
call GET "/sessions/$RUN-b/runs/$RUN-absent$(q)" 404; expect '.detail | test("not found")'
call GET "/sessions$(q "?limit=0")" 422; expect '.detail[0].loc == ["query","limit"]'
call GET "/sessions$(q "?type=robot")" 422; expect '.detail[0].loc == ["query","type"]'
call POST "/sessions$(q)" 422 '{"session_id":'; expect '.detail[0].type == "json_invalid"'
call POST "/sessions/$SID/rename$(q)" 422 '{}'; expect '.detail[0].loc == ["body","session_name"]'
call GET "/sessions?db_id=$RUN-no-such-db" 404; expect ".detail == \"No database found with id '$RUN-no-such-db'\""
call PUT "/sessions$(q)" 405 '{}'

# delete one, then bulk delete the rest; gone afterwards
call DELETE "/sessions/$SID$(q)" 204
call GET "/sessions/$SID$(q)" 404
call DELETE "/sessions$(q)" 204 "{\"session_ids\":[\"$RUN-b\",\"$RUN-c\"],\"session_types\":[\"agent\",\"agent\"]}"
call GET "/sessions$(q "?user_id=$RUN-user")" 200; expect '.data == [] and .meta.total_count == 0'
call DELETE "/sessions$(q)" 422 '{"session_ids":[],"session_types":[]}'

# metrics: open like the probes, and counting what this run just did
if [ "$ONLY_SESSIONS" != 1 ]; then
  saved="$KEY"; KEY=""
  call GET /metrics 200
  if ! grep -q '^agno_session_http_requests_total{.*route="/sessions/{session_id}".*} [1-9]' "$BODY"; then
    echo "FAIL [$STEP] /metrics does not count the requests to /sessions/{session_id}" >&2
    exit 1
  fi
  KEY="$saved"
fi

echo "smoke test passed: $STEP requests against $BASE"
