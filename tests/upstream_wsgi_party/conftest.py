"""Run wsgi_party's own test suite against wsgihub.compat.wsgi_party.

``tox -e upstream-wsgi-party`` fetches the suite (see fetch.py) and passes
its directory with ``--wsgi-party-dir``; the module ``wsgi_party`` it
imports is our drop-in.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import wsgihub.compat.wsgi_party


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--wsgi-party-dir", default=None, help="directory holding upstream tests.py")


def pytest_configure(config: pytest.Config) -> None:
    sys.modules["wsgi_party"] = wsgihub.compat.wsgi_party


@pytest.fixture(scope="session")
def upstream_dir(request: pytest.FixtureRequest) -> Path:
    where = request.config.getoption("--wsgi-party-dir")
    if not where or not (Path(where) / "tests.py").exists():
        pytest.skip("upstream wsgi_party tests not fetched (run: tox -e upstream-wsgi-party)")
    return Path(where)


@pytest.fixture(scope="session")
def upstream_module(upstream_dir: Path) -> object:
    """wsgi_party's tests.py, imported (its ``import wsgi_party`` gets our drop-in)."""
    directory = upstream_dir
    spec = importlib.util.spec_from_file_location("wsgi_party_upstream_tests", directory / "tests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
