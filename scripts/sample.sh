#!/usr/bin/env bash
# Set up and run the sample site: a legacy Django site with new Flask routes
# grafted on and a Pyramid API mounted beside it (README command 1).
# Usage: bash scripts/sample.sh [--port 8080]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .cache/sample-env/bin/wsgihub ]; then
    python3 -m venv .cache/sample-env
    .cache/sample-env/bin/pip install --quiet --disable-pip-version-check \
        -e . -e adapters/wsgihub-werkzeug -e adapters/wsgihub-flask \
        -e adapters/wsgihub-django -e adapters/wsgihub-pyramid -e sample_sites/graft
fi
exec .cache/sample-env/bin/python -m graftsite.run "$@"
