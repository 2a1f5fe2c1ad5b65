#!/usr/bin/env bash
# Bring the Compose stack's default profile up with podman-compose, in Compose's order: podman-compose does not
# wait for `service_healthy` / `service_completed_successfully`, so this does (postgres healthy, migrate exit 0,
# then the rest). Uses COMPOSE_PROJECT, AGNO_SECRETS_DIR and AGNO_SESSION_PORT from the environment.
source "$(dirname "$0")/lib.sh"
ensure_podman
project="${COMPOSE_PROJECT:-agno-session}"
export AGNO_SESSION_IMAGE="${AGNO_SESSION_IMAGE:-$IMAGE}" AGNO_POSTGRES_IMAGE="${AGNO_POSTGRES_IMAGE:-$PG_IMAGE}" \
  AGNO_BASE_IMAGE="${AGNO_BASE_IMAGE:-$BASE_IMAGE}" AGNO_SESSION_PORT="${AGNO_SESSION_PORT:-8080}"
export AGNO_SECRETS_DIR="${AGNO_SECRETS_DIR:-$ROOT/deploy/compose/secrets}"
compose() {
  "$DEPLOY_VENV/bin/podman-compose" --no-ansi -p "$project" \
    -f "$ROOT/docker-compose.session.yml" -f "$ROOT/docker-compose.local.yml" "$@"
}
container_of() {
  podman ps -aq --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=$1"
}

# Random secrets, made once (git ignores the directory's contents); readable by the containers' users.
mkdir -p "$AGNO_SECRETS_DIR"
if [ ! -s "$AGNO_SECRETS_DIR/pg_password" ]; then
  head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > "$AGNO_SECRETS_DIR/pg_password"
  printf 'postgresql://agno:%s@postgres:5432/agno' "$(cat "$AGNO_SECRETS_DIR/pg_password")" \
    > "$AGNO_SECRETS_DIR/agno_pg_dsn"
  chmod 0644 "$AGNO_SECRETS_DIR/pg_password" "$AGNO_SECRETS_DIR/agno_pg_dsn"
fi
# The metrics token is optional: an empty file leaves /metrics open (AGNO_METRICS_TOKEN=... to set one here).
if [ ! -e "$AGNO_SECRETS_DIR/agno_metrics_token" ]; then
  printf '%s' "${AGNO_METRICS_TOKEN:-}" > "$AGNO_SECRETS_DIR/agno_metrics_token"
  chmod 0644 "$AGNO_SECRETS_DIR/agno_metrics_token"
fi

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
step "compose: up (session gated on both)"
compose up -d >/dev/null 2>&1
wait_http "http://127.0.0.1:$AGNO_SESSION_PORT/readyz" 60 || { compose logs session >&2; die "session never ready"; }
podman healthcheck run "$(container_of session)" >/dev/null || die "the session service's healthcheck failed"
step "compose: session ready on http://127.0.0.1:$AGNO_SESSION_PORT (project $project)"
