#!/usr/bin/env bash
# Build the service image with podman on the local Debian base; print its size.
source "$(dirname "$0")/lib.sh"
ensure_base_image
cacert=/etc/ssl/certs/ca-certificates.crt
secret=()
[ -s "$cacert" ] && secret=(--secret "id=cacert,src=$cacert")
step "building $IMAGE (BASE=$BASE_IMAGE)"
started=$(date +%s)
podman build -q --format docker --build-arg "BASE=$BASE_IMAGE" "${secret[@]}" -t "$IMAGE" "$ROOT" >/dev/null
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
step "built $IMAGE in $(( $(date +%s) - started ))s: $(( size / 1000000 )) MB"
