#!/usr/bin/env bash
# A development virtualenv with everything editable: the core (with its gunicorn,
# uvicorn, granian, otel and lint extras), every adapter, the sample site, the
# frameworks the integration tests and the third-party sites need, and the test and
# benchmark tools.  One env to run any test file, benchmark or the CLI directly,
# where scripts/test.sh builds one tox env per concern.
#
# Usage: bash scripts/dev.sh [DIR]      (DIR defaults to .cache/dev; run it again to update)
#        DIR/bin/python -m pytest tests/test_accesslog.py
#        DIR/bin/python benchmarks/accesslog.py --opcodes --requests 300
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.cache/dev}"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q \
    -e '.[gunicorn,uvicorn,granian,otel,lint]' \
    -e adapters/wsgihub-django -e adapters/wsgihub-flask -e adapters/wsgihub-pyramid \
    -e adapters/wsgihub-starlette -e adapters/wsgihub-werkzeug \
    -e sample_sites/graft \
    'django<6' fastapi flask-login whitenoise webtest requests httpx bottle \
    pytest pytest-timeout 'hypothesis>=6.100' selenium
echo "dev.sh: $venv is ready ($("$venv/bin/python" --version)); run $venv/bin/python -m pytest tests -q"
