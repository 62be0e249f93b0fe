"""Fixtures for the core tests (helpers live in wsgi_helpers.py)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from wsgihub.plugins import make_plugins


@pytest.fixture
def plugins() -> Any:
    """A plugin manager with the built-ins only (installed adapters left out)."""
    return make_plugins(autoload=False)


@pytest.fixture(autouse=True, scope="session")
def _sighup_as_a_terminal_leaves_it() -> Iterator[None]:
    """SIGHUP at its default while the suite runs, also when it was started under ``nohup``.

    wsgihub leaves an ignored SIGHUP ignored (as gunicorn and CherryPy do:
    ``nohup wsgihub serve`` must survive the terminal), and every server the
    tests start inherits this process's disposition: under ``nohup`` the
    SIGHUP tests (graceful restart, rolling restarts behind haproxy) would
    test ``nohup`` instead.  The disposition is put back at the end.
    """
    before = signal.getsignal(signal.SIGHUP)
    if before == signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        if before == signal.SIG_IGN:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
