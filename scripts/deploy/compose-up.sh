#!/usr/bin/env bash
# Bring the Compose stack's default profile up with podman-compose, in Compose's order: podman-compose does not
# wait for `service_healthy` / `service_completed_successfully`, so this does (postgres healthy, migrate exit 0,
# then the rest). Uses COMPOSE_PROJECT, AGNO_SECRETS_DIR and AGNO_SESSION_PORT from the environment.
source "$(dirname "$0")/lib.sh"
ensure_podman
project="${COMPOSE_PROJECT:-agno-session}"
export AGNO_SESSION_IMAGE="${AGNO_SESSION_IMAGE:-$IMAGE}" AGNO_POSTGRES_IMAGE="${AGNO_POSTGRES_IMAGE:-$PG_IMAGE}" \
  AGNO_BASE_IMAGE="${AGNO_BASE_IMAGE:-$BASE_IMAGE}" AGNO_SESSION_PORT="${AGNO_SESSION_PORT:-8080}" \
  AGNO_EVENTS_PORT="${AGNO_EVENTS_PORT:-8081}"
export AGNO_SECRETS_DIR="${AGNO_SECRETS_DIR:-$ROOT/deploy/compose/secrets}"
compose() {
  "$DEPLOY_VENV/bin/podman-compose" --no-ansi -p "$project" \
    -f "$ROOT/docker-compose.session.yml" -f "$ROOT/docker-compose.local.yml" "$@"
}
container_of() {
  podman ps -aq --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=$1"
}

"$ROOT/scripts/deploy/compose-secrets.sh"

step "compose: up postgres (waiting for its healthcheck)"
compose up -d postgres >/dev/null 2>&1
pg="$(container_of postgres)"
for ((i = 0; i < 120; i++)); do
  podman healthcheck run "$pg" >/dev/null 2>&1 && break
  sleep 0.5
done
podman healthcheck run "$pg" >/dev/null 2>&1 || { compose logs postgres >&2; die "postgres never became healthy"; }
step "compose: up migrate (one-shot; must exit 0)"
compose up -d --no-deps migrate >/dev/null 2>&1
migrate="$(container_of migrate)"
code="$(podman wait "$migrate")"
[ "$code" = 0 ] || { podman logs "$migrate" >&2; die "migrate exited $code"; }
step "compose: up (session and events gated on both)"
compose up -d >/dev/null 2>&1
wait_http "http://127.0.0.1:$AGNO_EVENTS_PORT/readyz" 60 || { compose logs events >&2; die "events never ready"; }
podman healthcheck run "$(container_of events)" >/dev/null || die "the events service's healthcheck failed"
wait_http "http://127.0.0.1:$AGNO_SESSION_PORT/readyz" 60 || { compose logs session >&2; die "session never ready"; }
podman healthcheck run "$(container_of session)" >/dev/null || die "the session service's healthcheck failed"
step "compose: session ready on http://127.0.0.1:$AGNO_SESSION_PORT (project $project)"
