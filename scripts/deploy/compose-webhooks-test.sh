#!/usr/bin/env bash
# The Compose profile `webhooks` on the running stack (called by compose-test.sh, which exports the project, ports
# and secrets dir): a subscription file naming a receiver on this machine, migrate-webhooks (must exit 0), two deliver
# replicas (the documented `--scale deliver=2`), then scripts/deploy/webhook_check.py (writes through the front; every
# event signed right, in order, once; both metrics ports answer, one replica active), SIGTERM, and the profile down.
source "$(dirname "$0")/lib.sh"
files=(-f "$ROOT/docker-compose.session.yml" -f "$ROOT/docker-compose.local.yml")
compose() { "$DEPLOY_VENV/bin/podman-compose" --no-ansi -p "$COMPOSE_PROJECT" "${files[@]}" "$@"; }
container_of() {
  podman ps -aq --filter "label=io.podman.compose.project=$COMPOSE_PROJECT" --filter "label=com.docker.compose.service=$1"
}

# The receiver runs on this machine: podman names it host.containers.internal inside the compose network (its
# gateway). WEBHOOK_CHECK_SECRET gives the receiver another secret than the deliverer's (to see the check fail).
port="$(free_port)" user_id="webhook-check-$$"
secret="whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
cat > "$AGNO_SECRETS_DIR/webhooks.yaml" <<EOF
# written by scripts/deploy/compose-webhooks-test.sh
subscriptions:
  - name: compose-check
    url: http://host.containers.internal:$port/hooks
    secret: $secret
    events: [session.*]
    filters: {user_id: $user_id}
EOF
# The profile's containers removed by label: podman-compose 1.6's `down`/`stop SERVICE` reach only a scaled service's
# first replica.
webhooks_down() {
  local c
  for c in $(container_of deliver) $(container_of migrate-webhooks); do podman rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
}
trap webhooks_down EXIT

step "compose webhooks: up migrate-webhooks (one-shot; must exit 0)"
compose --profile webhooks up -d --no-deps migrate-webhooks >/dev/null 2>&1 || die "migrate-webhooks did not start"
code="$(podman wait "$(container_of migrate-webhooks)")"
[ "$code" = 0 ] || { compose --profile webhooks logs migrate-webhooks >&2; die "migrate-webhooks exited $code"; }
step "compose webhooks: up deliver, two replicas (one delivers, one stands by)"
compose --profile webhooks up -d --no-deps --scale deliver=2 deliver >/dev/null 2>&1 \
  || { compose --profile webhooks logs deliver >&2; die "the deliver replicas did not start"; }
mapfile -t replicas < <(container_of deliver)
[ "${#replicas[@]}" = 2 ] || { compose --profile webhooks logs deliver >&2; die "${#replicas[@]} deliver replicas"; }
step "compose webhooks: each replica's own healthcheck (/healthz on its metrics port)"
for c in "${replicas[@]}"; do
  for ((i = 0; i < 60; i++)); do podman healthcheck run "$c" >/dev/null 2>&1 && break; sleep 0.5; done
  podman healthcheck run "$c" >/dev/null 2>&1 || { podman logs "$c" >&2; die "a deliver replica is not healthy"; }
done
metrics=()
for c in "${replicas[@]}"; do  # each replica's metrics port, published on an ephemeral port of 127.0.0.1
  published="$(podman port "$c" 9464)" || { podman logs "$c" >&2; die "a deliver replica publishes no metrics port"; }
  metrics+=("http://$published/metrics")
done
step "compose webhooks: sessions written through the front; the receiver on :$port checks every delivery"
(cd "$ROOT" && "$ROOT/.venv/bin/python" -m scripts.deploy.webhook_check "http://127.0.0.1:$AGNO_SESSION_PORT" \
  "${metrics[@]}" --secret "${WEBHOOK_CHECK_SECRET:-$secret}" --port "$port" --user-id "$user_id" \
  --db-id "$AGNO_DB_ID") \
  || { compose --profile webhooks logs deliver >&2; die "the webhook deliverer did not deliver as it must"; }
step "compose webhooks: stop deliver (SIGTERM: each exits 0 with its summary), then down"
podman stop -t 45 "${replicas[@]}" >/dev/null 2>&1 || die "podman stop of the deliver replicas failed"
summaries=""
for c in "${replicas[@]}"; do
  code="$(podman wait "$c")"
  [ "$code" = 0 ] || { podman logs "$c" >&2; die "a deliver replica exited $code on SIGTERM"; }
  summaries+="$(podman logs "$c" 2>&1 | grep -o 'stopped: [0-9]* delivered' || true);"
done
[[ "$summaries" =~ ^(stopped:\ 6\ delivered\;stopped:\ 0\ delivered\;|stopped:\ 0\ delivered\;stopped:\ 6\ delivered\;)$ ]] \
  || die "the replicas' summaries: '$summaries' (wanted 6 delivered by one, 0 by the other)"
webhooks_down
[ -z "$(container_of deliver)$(container_of migrate-webhooks)" ] || die "the webhooks profile's containers remain"
wait_http "http://127.0.0.1:$AGNO_SESSION_PORT/readyz" 10 || die "taking the webhooks profile down hurt the stack"
trap - EXIT
step "compose webhooks: down; the rest of the stack still answers"
