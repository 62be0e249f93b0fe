#!/usr/bin/env bash
# Set up and run the whole test suite: every tox env (README command 2; .ci/run calls it).
# Needs only python3 (3.11) and pip; python3.12 is used for the Django 6 env.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3.12 may be installed but not on PATH (pyenv): find it for tox.
if ! python3.12 --version >/dev/null 2>&1; then
    for dir in "$HOME"/.pyenv/versions/3.12*/bin /opt/python/3.12*/bin; do
        if [ -x "$dir/python3.12" ]; then PATH="$dir:$PATH"; break; fi
    done
fi
export PATH

if [ ! -x .cache/toolenv/bin/tox ]; then
    python3 -m venv .cache/toolenv
    .cache/toolenv/bin/pip install --quiet --disable-pip-version-check "tox>=4.11"
fi
exec .cache/toolenv/bin/tox run-parallel --parallel 2 --parallel-no-spinner "$@"
