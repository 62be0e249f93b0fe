"""Run CherryPy's own bus tests against :mod:`wsgihub.bus`.

Before the test modules of this directory are collected, ``from
cherrypy.process import wspbus`` is made to resolve to ``wsgihub.bus`` (both the
``sys.modules`` entry and the attribute on the ``cherrypy.process`` package).
The original module is put back when the session ends, so other tests in the
same run see the real CherryPy.

Needs CherryPy (``tox -e upstream-cherrypy``).  Without it every module here
is skipped: each one starts with ``pytest.importorskip("cherrypy")``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

_NAME = "cherrypy.process.wspbus"
_original: ModuleType | None = None

try:
    import cherrypy.process
except ImportError:  # the core test environment: the modules here skip themselves
    pass
else:
    import wsgihub.bus

    _original = sys.modules.get(_NAME)
    sys.modules[_NAME] = wsgihub.bus
    cherrypy.process.wspbus = wsgihub.bus  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _exit_buses_left_running() -> Iterator[None]:
    """Exit any bus a test left running (upstream ``test_wait_publishes_periodically``
    does), instead of leaving it to the end-of-process automatic exit and its
    RuntimeWarning, exactly what wspbus would print there."""
    yield
    if _original is None:
        return
    from wsgihub.bus import ChannelFailures, _started

    for bus in list(_started.values()):
        try:
            bus.exit()
        except ChannelFailures:
            pass


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Give CherryPy its own wspbus back."""
    if _original is not None:
        sys.modules[_NAME] = _original
        cherrypy.process.wspbus = _original  # type: ignore[attr-defined]
