#!/usr/bin/env bash
# The image against a real PostgreSQL: both in containers on a private network, the service published on
# loopback only, run as Kubernetes would (read-only root, no capabilities). Probes, HEALTHCHECK, the smoke test
# with a key, then SIGTERM while a request waits on a row lock: it must still be answered, and the exit be 0.
source "$(dirname "$0")/lib.sh"
ensure_podman
ensure_jq
for image in "$IMAGE" "$PG_IMAGE"; do
  podman image exists "$image" || die "$image missing: run scripts/deploy/image.sh and pg-image.sh first"
done

tag="agno-ct-$$"
net="$tag-net" pg="$tag-pg" svc="$tag-svc"
secrets="$(mktemp -d)"
cleanup() {
  podman rm -f -t 2 "$svc" "$pg" >/dev/null 2>&1 || true
  podman network rm -f "$net" >/dev/null 2>&1 || true
  rm -rf "$secrets"
}
trap cleanup EXIT

password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
key="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$password" > "$secrets/pg_password"
chmod 0644 "$secrets/pg_password"  # read by the postgres user inside the container

podman network create "$net" >/dev/null
step "container: starting PostgreSQL ($PG_IMAGE)"
podman run -d --name "$pg" --network "$net" --network-alias postgres \
  -e POSTGRES_USER=agno -e POSTGRES_DB=agno -e POSTGRES_PASSWORD_FILE=/run/secrets/pg_password \
  -v "$secrets/pg_password:/run/secrets/pg_password:ro" "$PG_IMAGE" >/dev/null
for ((i = 0; i < 120; i++)); do
  podman healthcheck run "$pg" >/dev/null 2>&1 && break
  sleep 0.5
done
podman healthcheck run "$pg" >/dev/null 2>&1 || { podman logs "$pg" >&2; die "PostgreSQL never became healthy"; }

dsn="postgresql://agno:$password@postgres:5432/agno"
step "container: agno-session migrate (one-shot)"
podman run --rm --network "$net" --read-only -e AGNO_PG_DSN="$dsn" "$IMAGE" migrate --indexes

step "container: the chart's retention CronJob, exactly as rendered (ci/full-values.yaml), on seeded sessions"
"$DEPLOY_VENV/bin/python" "$ROOT/scripts/deploy/helm_chart.py" render "$ROOT/deploy/helm/agno-session" \
  --values "$ROOT/deploy/helm/agno-session/ci/full-values.yaml" --out "$secrets/chart.yaml" >/dev/null
"$DEPLOY_VENV/bin/python" "$ROOT/scripts/deploy/cronjob_run.py" "$secrets/chart.yaml" "$secrets/retention" \
  > "$secrets/cronjob.json"
chmod -R a+rX "$secrets/retention"
podman run --rm --network "$net" --read-only -e AGNO_PG_DSN="$dsn" "$IMAGE" migrate --lifecycle >/dev/null
old=$(( $(date +%s) - 100 * 86400 ))
podman exec "$pg" psql -q -U agno -d agno -c "
  INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, metadata, created_at, updated_at) VALUES
    ('free-1', 'agent', 'support-bot', '{\"tier\": \"free\"}', $old, $old),
    ('free-2', 'agent', 'support-bot', '{\"tier\": \"free\"}', $old, $old),
    ('free-held', 'agent', 'support-bot', '{\"tier\": \"free\"}', $old, $old),
    ('paid-1', 'agent', 'support-bot', '{\"tier\": \"paid\"}', $old, $old);
  INSERT INTO ai.agno_sessions_svc_holds (session_id, reason, held_at) VALUES ('free-held', 'case', $old);" >/dev/null
mapfile -t cron_env < <(jq -r '.env | to_entries[] | select(.key != "AGNO_DEFAULT_DB_ID") | "-e", "\(.key)=\(.value)"' \
  "$secrets/cronjob.json")
mapfile -t cron_args < <(jq -r '.args[]' "$secrets/cronjob.json")
podman run --rm --network "$net" --read-only --cap-drop ALL --security-opt no-new-privileges \
  -v "$secrets/retention:$(jq -r .mount "$secrets/cronjob.json"):ro" -e AGNO_PG_DSN="$dsn" "${cron_env[@]}" \
  "$IMAGE" "${cron_args[@]}" > "$secrets/retention.out" 2>&1 || { cat "$secrets/retention.out" >&2; die "the retention job failed"; }
grep -q "policy free-tier-support (archive, line .*): archived 2 sessions, 0 runs; skipped 1 held" \
  "$secrets/retention.out" || { cat "$secrets/retention.out" >&2; die "the retention job did not archive what it should"; }
left="$(podman exec "$pg" psql -tA -U agno -d agno -c "SELECT string_agg(session_id, ',' ORDER BY session_id)
  FROM ai.agno_sessions WHERE session_id IN ('free-1', 'free-2', 'free-held', 'paid-1')")"
[ "$left" = "free-held,paid-1" ] || die "after the retention job the sessions left are $left"
step "container: the retention job archived the two free-tier sessions, kept the held and the paid one"

port="$(free_port)"
step "container: starting $IMAGE on 127.0.0.1:$port (2 workers, read-only root, no capabilities)"
started=$(date +%s%N)
podman run -d --name "$svc" --network "$net" -p "127.0.0.1:$port:8080" \
  --read-only --tmpfs /tmp:rw,size=64m --cap-drop ALL --security-opt no-new-privileges \
  -e AGNO_PG_DSN="$dsn" -e AGNO_DB_ID=container -e OS_SECURITY_KEY="$key" -e AGNO_WORKERS=2 -e AGNO_THREADS=4 \
  "$IMAGE" >/dev/null
wait_http "http://127.0.0.1:$port/healthz" 60 || { podman logs "$svc" >&2; die "the container never answered /healthz"; }
step "container: answering after $(( ($(date +%s%N) - started) / 1000000 )) ms"
podman healthcheck run "$svc" >/dev/null || die "the image's HEALTHCHECK failed"
step "container: HEALTHCHECK healthy; running as $(podman exec "$svc" id -u):$(podman exec "$svc" id -g)"
[ "$(podman exec "$svc" id -u)" != 0 ] || die "the service runs as root"
curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$port/readyz" | jq -e '.databases.container == "ok"' >/dev/null \
  || die "/readyz not ready"

step "container: smoke test (with a key)"
OS_SECURITY_KEY="$key" "$ROOT/scripts/test-session-api.sh" "http://127.0.0.1:$port" container

step "container: nginx in front (a body over AGNO_MAX_BODY_BYTES is refused by it, in the service's JSON)"
head -c 10485761 /dev/zero | curl -sS -D "$secrets/head" -o "$secrets/body" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$port/sessions" >/dev/null || true
grep -qi '^server: nginx' "$secrets/head" && grep -q ' 413 ' "$secrets/head" \
  || die "no 413 from nginx: $(head -1 "$secrets/head")"
[ "$(cat "$secrets/body")" = '{"detail":"Request body is larger than 10485760 bytes"}' ] \
  || die "nginx's 413 body: $(cat "$secrets/body")"
curl -fsS -o /dev/null -H 'X-Forwarded-For: 203.0.113.9' -H 'X-Request-ID: spoofed-xff' "http://127.0.0.1:$port/healthz"
logged="$(podman logs "$svc" 2>&1 | grep '"spoofed-xff"' | jq -r .client_ip)"
[ -n "$logged" ] && [ "$logged" != 203.0.113.9 ] || die "the access log believed a client's X-Forwarded-For: '$logged'"
step "container: nginx answered the 413; the access log shows $logged, not the client's forged address"

step "container: attack (idle, slowloris, slow bodies, half heads) through the front; probes must hold"
attack "http://127.0.0.1:$port" --header "Authorization: Bearer $key"
[ "$(podman inspect "$svc" --format '{{.State.Running}}')" = true ] || die "the container stopped during the attack"

step "container: SIGTERM while a request waits on a row lock"
auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
curl -fsS -o /dev/null "${auth[@]}" -d '{"session_id":"drain","session_name":"before"}' "http://127.0.0.1:$port/sessions"
# psql holds the row for 4 s; the PATCH blocks on it; SIGTERM arrives meanwhile.
podman exec "$pg" psql -q -U agno -d agno -c \
  "BEGIN; SELECT 1 FROM ai.agno_sessions WHERE session_id = 'drain' FOR UPDATE; SELECT pg_sleep(4); COMMIT;" \
  >/dev/null &
locker=$!
sleep 1
answer="$secrets/answer"
curl -sS -o "$answer" -w '%{http_code}' -X PATCH "${auth[@]}" -d '{"session_name":"after"}' \
  "http://127.0.0.1:$port/sessions/drain" > "$secrets/status" &
patcher=$!
sleep 1
stop_started=$(date +%s)
podman stop -t 30 "$svc" >/dev/null
wait "$patcher" "$locker"
code="$(podman inspect "$svc" --format '{{.State.ExitCode}}')"
[ "$(cat "$secrets/status")" = 200 ] || die "the in-flight PATCH got $(cat "$secrets/status"): $(cat "$answer")"
jq -e '.session_name == "after"' "$answer" >/dev/null || die "the in-flight PATCH answered $(cat "$answer")"
[ "$code" = 0 ] || { podman logs "$svc" 2>&1 | tail -20 >&2; die "the container exited $code after SIGTERM"; }
step "container: in-flight request answered 200 during the stop; exit 0 after $(( $(date +%s) - stop_started ))s"
