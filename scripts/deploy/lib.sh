# Shared by the deploy scripts: progress lines with elapsed time, podman set up for this kind of machine.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/deploy/podman/containers.conf}"
export BUILDAH_FORMAT=docker  # HEALTHCHECK survives only in the docker image format
BASE_IMAGE="${BASE_IMAGE:-localhost/debian-base:bookworm}"
IMAGE="${IMAGE:-localhost/agno-session:dev}"
PG_IMAGE="${PG_IMAGE:-localhost/agno-session-postgres:15}"
DEPLOY_VENV="${DEPLOY_VENV:-$ROOT/.venv-deploy}"
_T0="${_T0:-$(date +%s)}"
export _T0

step() { printf '[deploy %4ss] %s\n' "$(( $(date +%s) - _T0 ))" "$*" >&2; }

die() { step "FAILED: $*"; exit 1; }

# A port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Poll URL until it answers 2xx, for at most $2 seconds.
wait_http() {
  local url="$1" limit="${2:-60}" i
  for ((i = 0; i < limit * 4; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.25
  done
  return 1
}

# scripts/attack.py against a deployed URL (extra arguments passed on): fails the deploy test unless every phase held.
attack() {
  local url="$1"
  shift
  python3 "$ROOT/scripts/attack.py" "$url" --seconds "${ATTACK_SECONDS:-10}" "$@" >&2 \
    || die "scripts/attack.py: the service at $url did not hold (see the table above)"
}

# podman and its helpers from Debian, when this machine does not have them yet.
ensure_podman() {
  if command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null \
    && command -v iptables >/dev/null; then
    return
  fi
  step "installing podman, runc, debootstrap with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman buildah runc uidmap \
    slirp4netns fuse-overlayfs netavark aardvark-dns catatonit iptables debootstrap >/dev/null
}

# jq for the smoke test.
ensure_jq() {
  command -v jq >/dev/null && return
  step "installing jq with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq >/dev/null
}

# No registry is reachable: a minimal Debian root made with debootstrap from the machine's own mirror.
ensure_base_image() {
  ensure_podman
  if podman image exists "$BASE_IMAGE"; then
    step "base image $BASE_IMAGE present"
    return
  fi
  local mirror rootfs
  mirror="$(grep -hoE '^(deb |URIs:) *https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -v security | head -1 | sed -E 's/^(deb |URIs:) *//' || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  rootfs="$(mktemp -d)"
  step "debootstrapping $BASE_IMAGE (bookworm, minbase)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  tar -C "$rootfs" -c . | podman import -q - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  step "base image $BASE_IMAGE imported"
}
