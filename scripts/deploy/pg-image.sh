#!/usr/bin/env bash
# Build the PostgreSQL image from Debian's package (no registry here) on the local Debian base.
source "$(dirname "$0")/lib.sh"
ensure_base_image
step "building $PG_IMAGE from Debian's postgresql-15"
started=$(date +%s)
podman build -q --format docker --build-arg "BASE=$BASE_IMAGE" -t "$PG_IMAGE" "$ROOT/deploy/compose/postgres" >/dev/null
step "built $PG_IMAGE in $(( $(date +%s) - started ))s"
