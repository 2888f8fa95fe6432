#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine, as root: set up everything
# (scripts/setup.sh --with-browser: docker.io, debootstrap, chromium, .venv,
# dockerd, images), then run every test: unit tests and the integration tests
# on the real Docker engine (each builds its own small replica and removes it).
#
# mypy ([tool.mypy] in pyproject.toml) runs first; a type error fails the run before pytest.
#
# Usage: scripts/test.sh [pytest options]      e.g. scripts/test.sh -k engine
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
scripts/setup.sh --with-browser
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
