#!/usr/bin/env bash
# Make the local Debian base image the Dockerfiles build on here (no registry can be reached).
source "$(dirname "$0")/lib.sh"
ensure_base_image
