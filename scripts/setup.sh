#!/usr/bin/env bash
# Set up replicator on a Debian 12 machine, as root. Idempotent: a second run
# checks everything and changes nothing (a few seconds).
#
#   1. apt: docker.io (the engine), debootstrap and PostgreSQL 15 (the app's OMS tests
#      run a throwaway cluster), if missing
#   2. .venv in the project root (python3 on PATH), if missing
#   3. pip install -e '.[test,configure,app]' unless pyproject.toml is unchanged since last
#      time (app: the application service's libraries, pinned to Debian bookworm's)
#   4. replicator engine start   (dockerd in the background, no systemd needed)
#   5. replicator image build    (only images whose recipe changed)
#
# Usage: scripts/setup.sh [--no-images] [--with-browser]   (from any directory)
#   --with-browser also installs Debian's chromium (for the report's browser test)
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

build_images=1
with_browser=0
for arg in "$@"; do
    case "$arg" in
        --no-images) build_images=0 ;;
        --with-browser) with_browser=1 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

t0=$SECONDS
step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs packages and starts dockerd)" >&2
    exit 1
fi

# ---------------------------------------------------------------- 1. system packages
apt_updated=0
apt_update() {
    if [ "$apt_updated" -eq 0 ]; then
        info "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine has no package lists yet.
    if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
        apt_update
    fi
    info "apt-get install $*"
    if ! apt-get install -y -qq "$@" >/dev/null; then
        apt_update   # stale lists: refresh once and retry
        apt-get install -y -qq "$@" >/dev/null
    fi
}

step "system packages"
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# The application tests start their own PostgreSQL cluster on a loopback port.
[ -x /usr/lib/postgresql/15/bin/postgres ] && [ -x /usr/bin/psql ] || missing+=(postgresql-15)
# The report's browser test renders the HTML report in a real headless Chromium.
if [ "$with_browser" -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
    missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
else
    info "docker.io, debootstrap and postgresql-15 are installed"
fi

# ---------------------------------------------------------------- 2. virtualenv
step "virtualenv $root/.venv"
python=$(command -v python3 || true)
if [ -z "$python" ]; then
    apt_install python3 python3-venv
    python=$(command -v python3)
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup.sh: $python is $("$python" -V 2>&1); replicator needs Python >= 3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    info "creating with $python ($("$python" -V 2>&1))"
    if ! "$python" -m venv .venv >/dev/null 2>&1; then
        rm -rf .venv
        # Debian's python3 needs python3-venv for ensurepip.
        apt_install python3-venv
        "$python" -m venv .venv
    fi
else
    info "exists ($(.venv/bin/python -V 2>&1))"
fi

# ---------------------------------------------------------------- 3. the package
step "pip install -e '.[test,configure,app]'"
stamp=.venv/.replicator-install-stamp
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $root"
installed_here() {
    # The editable install must point at this checkout (a moved clone needs a reinstall).
    .venv/bin/python - "$root" <<'EOF' 2>/dev/null
import pathlib, sys
import replicator
sys.exit(pathlib.Path(replicator.__file__).resolve().is_relative_to(pathlib.Path(sys.argv[1])) is False)
EOF
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/replicator ] && installed_here; then
    info "up to date (pyproject.toml unchanged)"
else
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,configure,app]'
    printf '%s\n' "$want" > "$stamp"
    info "installed"
fi
# The checkout's own code, byte-compiled: where PYTHONDONTWRITEBYTECODE is set
# (as on these machines), every command would compile it again at start-up
# (about 0.3 s of the 2 s a bad input may take, bench/bad_input_bench.py).
.venv/bin/python -m compileall -q -j 0 replicator infra > /dev/null

# ---------------------------------------------------------------- 4. engine
step "docker engine"
.venv/bin/replicator engine start

# ---------------------------------------------------------------- 5. images
if [ "$build_images" -eq 1 ]; then
    step "images"
    .venv/bin/replicator image build
fi

step "setup done in $((SECONDS - t0)) s"
