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


#: Signals a shell leaves ignored for what it starts, and what the suite sets them to meanwhile:
#: SIGHUP under ``nohup``; SIGINT for a background job of a non-interactive shell
#: (``bash -c 'tests &'``), where Python does not install its KeyboardInterrupt handler.
_UNIGNORED = {signal.SIGHUP: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}


@pytest.fixture(autouse=True, scope="session")
def _ignored_signals_as_a_terminal_leaves_them() -> Iterator[None]:
    """SIGHUP and SIGINT at their defaults while the suite runs, also when started with them ignored.

    wsgihub leaves an ignored signal ignored (as gunicorn and CherryPy do:
    ``nohup wsgihub serve`` must survive the terminal), and every server the
    tests start inherits this process's disposition: with SIGHUP or SIGINT
    ignored (``nohup``, a background job of a script) the signal tests
    (graceful restart, Ctrl-C, rolling restarts behind haproxy) would test
    that instead.  The dispositions are put back at the end.
    """
    ignored = [signum for signum in _UNIGNORED if signal.getsignal(signum) == signal.SIG_IGN]
    for signum in ignored:
        signal.signal(signum, _UNIGNORED[signum])
    try:
        yield
    finally:
        for signum in ignored:
            signal.signal(signum, signal.SIG_IGN)
