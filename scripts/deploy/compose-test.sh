#!/usr/bin/env bash
# The Compose stack for real: validated against the compose specification, then the default profile brought up
# with podman-compose (PostgreSQL from the local-image override), the smoke test against it, and down again.
source "$(dirname "$0")/lib.sh"
ensure_podman
ensure_jq
[ -x "$DEPLOY_VENV/bin/podman-compose" ] || die "no $DEPLOY_VENV: run make deploy-tools first"
for image in "$IMAGE" "$PG_IMAGE"; do
  podman image exists "$image" || die "$image missing: run scripts/deploy/image.sh and pg-image.sh first"
done
files=(-f "$ROOT/docker-compose.session.yml" -f "$ROOT/docker-compose.local.yml")

step "compose: validating against the compose specification"
"$DEPLOY_VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec \
  "$ROOT/docker-compose.session.yml" "$ROOT/docker-compose.local.yml"

secrets="$(mktemp -d)"
project="agno-compose-$$"
export AGNO_SECRETS_DIR="$secrets" AGNO_SESSION_IMAGE="$IMAGE" AGNO_POSTGRES_IMAGE="$PG_IMAGE" \
  AGNO_BASE_IMAGE="$BASE_IMAGE" AGNO_SESSION_PORT="$(free_port)" AGNO_DB_ID=compose
compose() { "$DEPLOY_VENV/bin/podman-compose" --no-ansi -p "$project" "${files[@]}" "$@"; }
cleanup() {
  compose down -v -t 5 >/dev/null 2>&1 || true
  rm -rf "$secrets"
}
trap cleanup EXIT
password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$password" > "$secrets/pg_password"
printf 'postgresql://agno:%s@postgres:5432/agno' "$password" > "$secrets/agno_pg_dsn"
chmod 0644 "$secrets"/*  # read by the containers' unprivileged users

step "compose: every profile resolves (agentos, shadow)"
compose --profile agentos --profile shadow config >/dev/null

# podman-compose starts services in dependency order but does not wait for `service_healthy` or
# `service_completed_successfully`; this does the waiting Docker Compose would do, in the same order.
step "compose: up postgres (waiting for its healthcheck)"
compose up -d postgres >/dev/null 2>&1
pg="$(podman ps -q --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=postgres")"
for ((i = 0; i < 120; i++)); do
  podman healthcheck run "$pg" >/dev/null 2>&1 && break
  sleep 0.5
done
podman healthcheck run "$pg" >/dev/null 2>&1 || { compose logs postgres >&2; die "postgres never became healthy"; }
step "compose: up migrate (one-shot; must exit 0)"
compose up -d --no-deps migrate >/dev/null 2>&1
migrate="$(podman ps -aq --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=migrate")"
code="$(podman wait "$migrate")"
[ "$code" = 0 ] || { podman logs "$migrate" >&2; die "migrate exited $code"; }
step "compose: up (session gated on both)"
compose up -d >/dev/null 2>&1
wait_http "http://127.0.0.1:$AGNO_SESSION_PORT/readyz" 60 || { compose logs session >&2; die "session never ready"; }
svc="$(podman ps -q --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=session")"
podman healthcheck run "$svc" >/dev/null || die "the session service's healthcheck failed"
step "compose: smoke test on 127.0.0.1:$AGNO_SESSION_PORT"
"$ROOT/scripts/test-session-api.sh" "http://127.0.0.1:$AGNO_SESSION_PORT" compose
step "compose: down"
