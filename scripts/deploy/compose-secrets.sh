#!/usr/bin/env bash
# Random secrets for the Compose stack, made once in $AGNO_SECRETS_DIR (default deploy/compose/secrets/, which git
# ignores): PostgreSQL's password, the DSN with it, and an optional metrics token (empty: /metrics stays open).
source "$(dirname "$0")/lib.sh"
export AGNO_SECRETS_DIR="${AGNO_SECRETS_DIR:-$ROOT/deploy/compose/secrets}"
mkdir -p "$AGNO_SECRETS_DIR"
if [ ! -s "$AGNO_SECRETS_DIR/pg_password" ]; then
  head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > "$AGNO_SECRETS_DIR/pg_password"
  printf 'postgresql://agno:%s@postgres:5432/agno' "$(cat "$AGNO_SECRETS_DIR/pg_password")" \
    > "$AGNO_SECRETS_DIR/agno_pg_dsn"
  chmod 0644 "$AGNO_SECRETS_DIR/pg_password" "$AGNO_SECRETS_DIR/agno_pg_dsn"  # readable by the containers' users
  step "compose: secrets written to $AGNO_SECRETS_DIR"
fi
if [ ! -e "$AGNO_SECRETS_DIR/agno_metrics_token" ]; then
  printf '%s' "${AGNO_METRICS_TOKEN:-}" > "$AGNO_SECRETS_DIR/agno_metrics_token"
  chmod 0644 "$AGNO_SECRETS_DIR/agno_metrics_token"
fi
if [ ! -e "$AGNO_SECRETS_DIR/webhooks.yaml" ]; then  # the deliverer's subscriptions (profile webhooks): none yet
  printf '# docs/operations.md, Webhooks\nsubscriptions: []\n' > "$AGNO_SECRETS_DIR/webhooks.yaml"
  chmod 0644 "$AGNO_SECRETS_DIR/webhooks.yaml"
fi
