"""A drop-in for Werkzeug's ``DispatcherMiddleware``, backed by the pegboard.

::

    from wsgihub.compat.werkzeug import DispatcherMiddleware
    app = DispatcherMiddleware(frontend, {"/backend": backend})

Same constructor, same ``app`` and ``mounts`` attributes, same
``SCRIPT_NAME``/``PATH_INFO`` shifting; dispatch walks path segments on a
board instead of trying every shorter prefix.  Mount prefixes are limited
to unreserved ASCII (Werkzeug accepts more, but Django would encode them).
When mounted on a :class:`~wsgihub.Hub`, its mounts become the hub's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..board import Pegboard

if TYPE_CHECKING:
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = ["DispatcherMiddleware"]


class DispatcherMiddleware:
    """Combine multiple applications as a single WSGI application.

    ``app`` answers every path no mount matches; ``mounts`` maps path
    prefixes to applications.
    """

    def __init__(self, app: WSGIApplication, mounts: Mapping[str, WSGIApplication] | None = None) -> None:
        self.app = app
        self.mounts = dict(mounts or {})
        self._board = Pegboard()
        self._board.mount("/", app, "root")
        for prefix, mounted in self.mounts.items():
            self._board.mount(prefix, mounted, "m" + str(len(self._board.pegs())))

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        peg, matched, rest = self._board.resolve(environ.get("PATH_INFO", ""))
        if matched:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + matched
            environ["PATH_INFO"] = rest
        return peg.app(environ, start_response)  # type: ignore[union-attr]
