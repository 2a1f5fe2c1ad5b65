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
export COMPOSE_PROJECT="agno-compose-$$" AGNO_SECRETS_DIR="$secrets" AGNO_SESSION_PORT="$(free_port)" AGNO_DB_ID=compose \
  AGNO_EVENTS_PORT="$(free_port)" \
  AGNO_SESSION_IMAGE="$IMAGE" AGNO_POSTGRES_IMAGE="$PG_IMAGE" AGNO_BASE_IMAGE="$BASE_IMAGE" \
  AGNO_AGENTOS_IMAGE="localhost/agno-agentos:compose-test" AGNO_SHADOW_IMAGE="localhost/agno-session-shadow:compose-test" \
  AGNO_AGENTOS_PORT="$(free_port)" SHADOW_PORT="$(free_port)" SHADOW_CONTROL_PORT="$(free_port)" SHADOW_MODE=reverse
compose() { "$DEPLOY_VENV/bin/podman-compose" --no-ansi -p "$COMPOSE_PROJECT" "${files[@]}" "$@"; }
cleanup() {
  # Every container of the project first (a scaled service's second replica escapes podman-compose's down), then down.
  podman ps -aq --filter "label=io.podman.compose.project=$COMPOSE_PROJECT" | xargs -r podman rm -f -t 5 >/dev/null 2>&1 || true
  compose --profile agentos --profile shadow --profile webhooks down -v -t 5 >/dev/null 2>&1 || true
  podman rmi -f "$AGNO_AGENTOS_IMAGE" "$AGNO_SHADOW_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$secrets"
}
trap cleanup EXIT

"$ROOT/scripts/deploy/compose-up.sh"
step "compose: every profile resolves (agentos, shadow, webhooks)"
compose --profile agentos --profile shadow --profile webhooks config >/dev/null
step "compose: smoke test on 127.0.0.1:$AGNO_SESSION_PORT"
"$ROOT/scripts/test-session-api.sh" "http://127.0.0.1:$AGNO_SESSION_PORT" compose
step "compose: the change feed's stream through the front (the events service behind /sessions/-/events)"
python3 "$ROOT/scripts/deploy/sse_check.py" "http://127.0.0.1:$AGNO_SESSION_PORT" || die "no event through the front"
step "compose: attack (idle, slowloris, slow bodies, half heads) through the front; probes must hold"
attack "http://127.0.0.1:$AGNO_SESSION_PORT"
"$ROOT/scripts/deploy/compose-webhooks-test.sh"
"$ROOT/scripts/deploy/compose-profiles-test.sh"
step "compose: down"
