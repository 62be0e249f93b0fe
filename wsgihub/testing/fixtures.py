"""pytest fixtures of the testing kit (this module imports pytest).

Bring them into a ``conftest.py`` (or a test module) by importing them::

    from wsgihub.testing.fixtures import live_server, module_folder  # noqa: F401

    def test_served(live_server, hub):
        server = live_server(hub)              # listening on 127.0.0.1:PORT
        assert server.get("/new/").code == 200
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .live import LiveServer, serving

if TYPE_CHECKING:
    from ..types import WSGIApplication

__all__ = ["live_server", "module_folder"]


@pytest.fixture
def live_server() -> Iterator[Callable[..., LiveServer]]:
    """``live_server(app, **options) -> LiveServer``: see :func:`wsgihub.testing.serving`.

    Every server started in the test is stopped and drained at its end.
    """
    with ExitStack() as stack:

        def start(app: WSGIApplication, **options: Any) -> LiveServer:
            return stack.enter_context(serving(app, **options))

        yield start


@pytest.fixture
def module_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], Path]]:
    """``module_folder(name, source) -> Path``: module ``name`` written where a site finds it.

    The file is ``name.py`` in the test's temporary folder, which becomes the
    current directory; the folder is returned.  It is not put on
    ``sys.path``: ``wsgihub.load`` and the CLI put the current directory
    there themselves (as ``python -m`` does), which the test then relies on.
    The modules written are forgotten (``sys.modules``) at the test's end,
    so the next test imports its own.
    """
    written: list[str] = []

    def write(name: str, source: str) -> Path:
        (tmp_path / f"{name}.py").write_text(source)
        written.append(name)
        return tmp_path

    monkeypatch.chdir(tmp_path)
    yield write
    for name in written:
        sys.modules.pop(name, None)
