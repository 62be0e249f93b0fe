#!/usr/bin/env bash
# Build a wheel of every distribution in this repository -- wsgihub itself and
# the adapters under adapters/ -- into one folder, for installing into an
# existing project's virtualenv (none of them is on PyPI):
#
#   bash scripts/build-wheels.sh [DIR]          # DIR defaults to dist/wheels
#   pip install --find-links DIR 'wsgihub[gunicorn]' wsgihub-django wsgihub-flask
#
# pip takes the wsgihub* wheels from DIR and everything else (Django, Flask,
# gunicorn...) from PyPI as usual.  Each wheel is built with `pip wheel
# --no-deps` in pip's isolated build environment (setuptools comes from the
# index); PYTHON picks the interpreter (default: python3).  Prints the wheels
# it wrote, one per line.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-"$ROOT/dist/wheels"}
PYTHON=${PYTHON:-python3}

# The core first, then the adapters (each depends on wsgihub; Flask's on Werkzeug's).
PROJECTS=("$ROOT")
for adapter in "$ROOT"/adapters/*/; do
    if [ -f "$adapter/pyproject.toml" ]; then
        PROJECTS+=("${adapter%/}")
    fi
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for project in "${PROJECTS[@]}"; do
    "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps \
        --wheel-dir "$OUT" "$project"
done
ls "$OUT"/wsgihub*.whl
