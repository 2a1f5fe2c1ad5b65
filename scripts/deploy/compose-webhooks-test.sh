#!/usr/bin/env bash
# The Compose profile `webhooks` on the running stack (called by compose-test.sh, which exports the project, ports
# and secrets dir): a subscription file naming a receiver on this machine, migrate-webhooks (must exit 0), deliver,
# then scripts/deploy/webhook_check.py (writes through the front; every event signed right, in order, once; the
# metrics port answers), and the profile down again.
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
webhooks_down() { compose --profile webhooks down -t 5 deliver migrate-webhooks >/dev/null 2>&1 || true; }
trap webhooks_down EXIT

step "compose webhooks: up migrate-webhooks (one-shot; must exit 0)"
compose --profile webhooks up -d --no-deps migrate-webhooks >/dev/null 2>&1
code="$(podman wait "$(container_of migrate-webhooks)")"
[ "$code" = 0 ] || { compose --profile webhooks logs migrate-webhooks >&2; die "migrate-webhooks exited $code"; }
step "compose webhooks: up deliver (metrics on 127.0.0.1:$AGNO_DELIVER_METRICS_HOST_PORT)"
compose --profile webhooks up -d --no-deps deliver >/dev/null 2>&1
step "compose webhooks: sessions written through the front; the receiver on :$port checks every delivery"
(cd "$ROOT" && "$ROOT/.venv/bin/python" -m scripts.deploy.webhook_check "http://127.0.0.1:$AGNO_SESSION_PORT" \
  "http://127.0.0.1:$AGNO_DELIVER_METRICS_HOST_PORT/metrics" --secret "${WEBHOOK_CHECK_SECRET:-$secret}" \
  --port "$port" --user-id "$user_id" --db-id "$AGNO_DB_ID") \
  || { compose --profile webhooks logs deliver >&2; die "the webhook deliverer did not deliver as it must"; }
step "compose webhooks: stop deliver (SIGTERM: exit 0 and its summary), then down"
deliver="$(container_of deliver)"
compose --profile webhooks stop -t 45 deliver >/dev/null 2>&1
code="$(podman wait "$deliver")"
summary="$(podman logs "$deliver" 2>&1 | grep -o 'stopped: .*' || true)"
[ "$code" = 0 ] && [[ "$summary" == "stopped: 6 delivered, 0 retried, 0 dead-lettered"* ]] \
  || { podman logs "$deliver" >&2; die "deliver stopped with exit $code and summary '$summary'"; }
webhooks_down
[ -z "$(container_of deliver)$(container_of migrate-webhooks)" ] || die "the webhooks profile's containers remain"
wait_http "http://127.0.0.1:$AGNO_SESSION_PORT/readyz" 10 || die "taking the webhooks profile down hurt the stack"
trap - EXIT
step "compose webhooks: down; the rest of the stack still answers"
