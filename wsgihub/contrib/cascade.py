"""Cascade: try applications in order until one does not answer 404.

A composition scheme built on the kernel's response recording
(:mod:`wsgihub.compose`)::

    from wsgihub.contrib.cascade import Cascade
    site = Cascade([new_app, legacy_app])   # new_app first; its 404s fall through

Every application but the last runs on a copy of the environ, so one that
fell through leaves no changes behind; a request body is read once into a
spooled temporary file and replayed for each try.  The last application's
answer is final, whatever it is.  The hub's grafts fall back on the same
function (:func:`wsgihub.compose.cascade`) for apps whose routes it cannot read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..compose import SPOOL_MAX, cascade

if TYPE_CHECKING:
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = ["SPOOL_MAX", "Cascade", "cascade"]


class Cascade:
    """A WSGI application that tries ``apps`` in order.

    ``catch`` holds the status codes that mean "try the next one".
    """

    def __init__(self, apps: Sequence[WSGIApplication], catch: Iterable[int] = (404,)) -> None:
        if not apps:
            raise ValueError("Cascade needs at least one application")
        self.apps = list(apps)
        self.catch = frozenset(catch)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return cascade(self.apps, environ, start_response, self.catch)
