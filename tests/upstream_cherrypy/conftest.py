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
    import cherrypy.process  # type: ignore[import-untyped]
except ImportError:  # the core test environment: the modules here skip themselves
    pass
else:
    import wsgihub.bus

    _original = sys.modules.get(_NAME)
    sys.modules[_NAME] = wsgihub.bus
    cherrypy.process.wspbus = wsgihub.bus  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _exit_buses_left_running() -> Iterator[None]:
    """Exit the buses a test started and left running.

    Upstream ``test_wait_publishes_periodically`` never exits its bus; without
    this the end-of-process automatic exit would print wspbus's RuntimeWarning.
    Buses that were already running before the test are left alone.
    """
    if _original is None:
        yield
        return
    from wsgihub.bus import ChannelFailures, _started

    before = set(_started)
    yield
    for key, bus in list(_started.items()):
        if key not in before:
            try:
                bus.exit()
            except ChannelFailures:
                pass


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Give CherryPy its own wspbus back."""
    if _original is not None:
        sys.modules[_NAME] = _original
        cherrypy.process.wspbus = _original  # type: ignore[attr-defined]
