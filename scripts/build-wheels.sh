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
#
# wsgihub's wheel is compiled for this platform and Python: its access-log
# formatter (wsgihub/accesslines.py) is compiled with mypyc, which pip fetches
# into the build environment (setup.py).  That needs a C compiler and the
# Python headers; without a compiler (or with WSGIHUB_COMPILE=0) the wheel is
# pure Python, for any platform, and says so.  The lines are the same.
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

# Compile unless told not to, or unless there is no C compiler to compile with.
if [ -z "${WSGIHUB_COMPILE:-}" ]; then
    if command -v "${CC:-cc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then
        WSGIHUB_COMPILE=1
    else
        WSGIHUB_COMPILE=0
        echo "build-wheels.sh: no C compiler (cc, gcc): wsgihub's wheel is pure Python, its access log ~2x slower to format" >&2
    fi
fi
export WSGIHUB_COMPILE

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for project in "${PROJECTS[@]}"; do
    "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps \
        --wheel-dir "$OUT" "$project"
done
ls "$OUT"/wsgihub*.whl
