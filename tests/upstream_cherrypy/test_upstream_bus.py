"""CherryPy's bus test-suite (``cherrypy/test/test_bus.py``), unmodified, on our Bus.

The star import brings the upstream tests *and* their fixtures into this
module; ``conftest.py`` has already pointed ``cherrypy.process.wspbus`` at
:mod:`wsgihub.bus`, so ``wspbus.Bus()`` in the fixtures builds our bus.
"""

from __future__ import annotations

import pytest

pytest.importorskip("cherrypy")

from cherrypy.test.test_bus import *  # type: ignore[import-untyped]
from cherrypy.test.test_bus import wspbus as _upstream_wspbus  # type: ignore[import-untyped]

import wsgihub.bus


def test_upstream_suite_uses_wsgihub_bus() -> None:
    """Guard: the upstream tests above really ran against wsgihub.bus."""
    assert _upstream_wspbus is wsgihub.bus
    assert _upstream_wspbus.Bus is wsgihub.bus.Bus
