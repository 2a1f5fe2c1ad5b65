#!/usr/bin/env bash
# Every deployment asset, run for real: lint the Dockerfiles, render and validate the chart, smoke-test real
# gunicorn, build the image and run it against PostgreSQL, bring the Compose stack up. Removes the images and
# containers it made (DEPLOY_KEEP_IMAGES=1 keeps the images for another run).
source "$(dirname "$0")/lib.sh"
ensure_podman
ensure_jq
made_base=0
podman image exists "$BASE_IMAGE" 2>/dev/null || made_base=1
cleanup() {
  local code=$?
  if [ "${DEPLOY_KEEP_IMAGES:-0}" != 1 ]; then
    podman rmi -f "$IMAGE" "$PG_IMAGE" >/dev/null 2>&1 || true
    [ "$made_base" = 1 ] && { podman rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true; }
    podman image prune -f >/dev/null 2>&1 || true
  fi
  if [ "$code" = 0 ]; then step "deploy-test passed in $(( $(date +%s) - _T0 ))s"; else step "deploy-test FAILED"; fi
}
trap cleanup EXIT

step "hadolint: every Dockerfile"
"$DEPLOY_VENV/bin/hadolint" --failure-threshold warning "$ROOT/Dockerfile" "$ROOT"/deploy/compose/*/Dockerfile
"$ROOT/scripts/deploy/chart-test.sh"
"$ROOT/scripts/deploy/gunicorn-test.sh"
"$ROOT/scripts/deploy/image.sh"
step "image: its recorded and installed packages equal requirements/service.txt"
(cd "$ROOT" && "${PROJECT_PYTHON:-$ROOT/.venv/bin/python}" -m scripts.deploy.image_versions "$IMAGE") \
  || die "the image does not hold the runtime lock's versions"
"$ROOT/scripts/deploy/pg-image.sh"
"$ROOT/scripts/deploy/container-test.sh"
"$ROOT/scripts/deploy/compose-test.sh"
