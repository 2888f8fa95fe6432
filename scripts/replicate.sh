#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine, as root: set up everything
# (scripts/setup.sh: docker.io, debootstrap, .venv, dockerd, images), then
# replicate the paris2024 edition end to end: up the ITL, CTOC and TOC stacks,
# configure them with Ansible, verify them and write the reports.
#
# Usage: scripts/replicate.sh [EDITION] [-- extra `replicator replicate` options]
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
edition="${1:-paris2024}"
shift || true
[ "${1:-}" = "--" ] && shift
scripts/setup.sh
exec .venv/bin/replicator replicate --edition "$edition" --yes "$@"
