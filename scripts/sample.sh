#!/usr/bin/env bash
# Set up and run the sample site: a legacy Django site with new Flask routes
# grafted on, a Pyramid API and a FastAPI service mounted beside it (README command 1).
# Usage: bash scripts/sample.sh [--port 8080]
set -euo pipefail
cd "$(dirname "$0")/.."
# (again when an older env lacks a part the site now has: the FastAPI service)
if ! .cache/sample-env/bin/python -c "import graftsite, wsgihub_starlette" 2>/dev/null; then
    python3 -m venv .cache/sample-env
    .cache/sample-env/bin/pip install --quiet --disable-pip-version-check \
        -e . -e adapters/wsgihub-werkzeug -e adapters/wsgihub-flask \
        -e adapters/wsgihub-django -e adapters/wsgihub-pyramid \
        -e adapters/wsgihub-starlette -e sample_sites/graft
fi
exec .cache/sample-env/bin/python -m graftsite.run "$@"
