# Sourced by the other scripts: creates .venv and installs the requirements when they changed.
# One script at a time installs: ./scripts/serve and ./scripts/test started together on a fresh clone would
# otherwise both create and pip-install into the same .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VENV_LOCK="$ROOT/.venv.lock"
PYTHON_BIN="${PYTHON:-python3.11}"
command -v "$PYTHON_BIN" >/dev/null 2>&1 || PYTHON_BIN=python3

_install() {  # $1: requirements file to install
  local req="$ROOT/$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating virtual environment in $VENV" >&2
    "$PYTHON_BIN" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  fi
  local stamp="$VENV/.installed-$(basename "$req")"
  local digest
  digest="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing $1 into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$digest" > "$stamp"
  fi
}

ensure_venv() {  # $1: requirements file to install
  if command -v flock >/dev/null 2>&1; then
    ( flock 9 && _install "$1" ) 9>"$VENV_LOCK"
    return
  fi
  # No flock (macOS): mkdir is atomic; a lock left by a killed run is taken over after 10 minutes.
  local waited=0
  until mkdir "$VENV_LOCK.d" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ "$waited" -ge 600 ]; then rmdir "$VENV_LOCK.d" 2>/dev/null || true; waited=0; fi
  done
  local status=0
  ( _install "$1" ) || status=$?
  rmdir "$VENV_LOCK.d"
  return "$status"
}
