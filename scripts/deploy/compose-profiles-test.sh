#!/usr/bin/env bash
# The Compose profiles `agentos` and `shadow` on the running stack (called by compose-test.sh, which exports the
# project, images and ports): build both images, bring them up, run the db_id/auth preflight, the smoke test through
# the proxy in reverse mode (agno-session answers /sessions, AgentOS is compared), and require no undeclared
# difference in the proxy's summary.
source "$(dirname "$0")/lib.sh"
files=(-f "$ROOT/docker-compose.session.yml" -f "$ROOT/docker-compose.local.yml")
compose() { "$DEPLOY_VENV/bin/podman-compose" --no-ansi -p "$COMPOSE_PROJECT" "${files[@]}" "$@"; }
cacert=/etc/ssl/certs/ca-certificates.crt
secret=()
[ -s "$cacert" ] && secret=(--secret "id=cacert,src=$cacert")

step "compose profiles: building $AGNO_AGENTOS_IMAGE and $AGNO_SHADOW_IMAGE"
podman build -q --format docker --build-arg "BASE=$BASE_IMAGE" "${secret[@]}" -t "$AGNO_AGENTOS_IMAGE" \
  -f "$ROOT/deploy/compose/agentos/Dockerfile" "$ROOT" >/dev/null
podman build -q --format docker --build-arg "BASE=$BASE_IMAGE" "${secret[@]}" -t "$AGNO_SHADOW_IMAGE" \
  -f "$ROOT/deploy/compose/shadow/Dockerfile" "$ROOT" >/dev/null
step "compose profiles: up agentos and shadow (mode $SHADOW_MODE)"
compose --profile agentos --profile shadow up -d --no-deps agentos shadow >/dev/null 2>&1
agentos="http://127.0.0.1:$AGNO_AGENTOS_PORT" proxy="http://127.0.0.1:$SHADOW_PORT"
control="http://127.0.0.1:$SHADOW_CONTROL_PORT" sessions="http://127.0.0.1:$AGNO_SESSION_PORT"
wait_http "$agentos/health" 120 || { compose --profile agentos logs agentos >&2; die "AgentOS never answered"; }
wait_http "$control/summary" 60 || { compose --profile shadow logs shadow >&2; die "the proxy never answered"; }

step "compose profiles: preflight (AgentOS's /config against the running agno-session)"
"$ROOT/.venv/bin/agno-session" check --agentos-url "$agentos" --sessions-url "$sessions" \
  || die "the preflight found differences between AgentOS and agno-session"

step "compose profiles: smoke test through the proxy on $proxy"
SMOKE_SESSIONS_ONLY=1 "$ROOT/scripts/test-session-api.sh" "$proxy" compose
step "compose profiles: the proxy's summary (no undeclared difference)"
for ((i = 0; i < 120; i++)); do  # every comparison finished
  [ "$(curl -fsS "$control/summary" | jq '.pending // 0')" = 0 ] && break
  sleep 0.5
done
summary="$(curl -fsS "$control/summary")"
# `regressions` (undeclared differences) once the proxy counts declared ones apart; `different` before that.
bad="$(jq '(.regressions // .different)' <<<"$summary")"
jq -c '{mode, compared, identical, different, declared, regressions, unstable}' <<<"$summary" >&2
[ "$(jq '.compared' <<<"$summary")" -gt 0 ] || die "the proxy compared nothing"
if [ "$bad" != 0 ]; then  # what differed, from the proxy's own records
  podman exec "$(podman ps -q --filter "label=io.podman.compose.project=$COMPOSE_PROJECT" \
    --filter label=com.docker.compose.service=shadow)" cat /reports/differences.ndjson 2>/dev/null \
    | jq -c '{request: (.request.method + " " + .request.target), differences: [.differences[]
             | {part, pointer, kind, primary: (.primary // .a | tostring | .[:80]), candidate: (.candidate // .b | tostring | .[:80])}][:5]}' >&2 || true
  die "$bad undeclared difference(s) through the proxy"
fi
step "compose profiles: $(jq '.compared' <<<"$summary") pairs compared, none undeclared"
