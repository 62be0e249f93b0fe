"""pytest fixtures of the testing kit (this module imports pytest).

Bring them into a ``conftest.py`` by importing them::

    from wsgihub.testing.fixtures import live_server  # noqa: F401

    def test_served(live_server, hub):
        server = live_server(hub)              # listening on 127.0.0.1:PORT
        assert server.get("/new/").code == 200
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from .live import LiveServer, serving

if TYPE_CHECKING:
    from ..types import WSGIApplication

__all__ = ["live_server"]


@pytest.fixture
def live_server() -> Iterator[Callable[..., LiveServer]]:
    """``live_server(app, **options) -> LiveServer``: see :func:`wsgihub.testing.serving`.

    Every server started in the test is stopped and drained at its end.
    """
    with ExitStack() as stack:

        def start(app: WSGIApplication, **options: Any) -> LiveServer:
            return stack.enter_context(serving(app, **options))

        yield start
