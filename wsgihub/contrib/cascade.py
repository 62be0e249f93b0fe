"""Cascade: try applications in order until one does not answer 404.

A composition scheme built on the kernel's response recording::

    from wsgihub.contrib.cascade import Cascade
    site = Cascade([new_app, legacy_app])   # new_app first; its 404s fall through

Every application but the last runs on a copy of the environ, so one that
fell through leaves no changes behind; a request body is read once into a
spooled temporary file and replayed for each try.  The last application's
answer is final, whatever it is.  The hub uses this for grafted apps whose
routes it cannot read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..board import PegResponse
from ..wsgi import close_body

if TYPE_CHECKING:
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = ["Cascade", "cascade"]

#: Bodies up to this size stay in memory while replayed.
SPOOL_MAX = 1024 * 1024


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


def cascade(
    apps: Sequence[WSGIApplication],
    environ: Environ,
    start_response: StartResponse,
    catch: frozenset[int] = frozenset({404}),
) -> Iterable[bytes]:
    """Run ``apps`` in order on ``environ`` until one answers outside ``catch``."""
    replay = _replayable_input(environ) if len(apps) > 1 else None
    for app in apps[:-1]:
        if replay is not None:
            replay.seek(0)
        attempt = dict(environ)
        response = PegResponse()
        body = response.prime(app(attempt, response.start_response))
        if _code(response.status) in catch:
            close_body(body)
            continue
        environ.update(attempt)
        start_response(response.status or "500 Internal Server Error", response.headers, response.exc_info)
        return body
    if replay is not None:
        replay.seek(0)
    return apps[-1](environ, start_response)


def _code(status: str | None) -> int:
    try:
        return int((status or "0").split(None, 1)[0])
    except ValueError:
        return 0


def _replayable_input(environ: Environ) -> tempfile.SpooledTemporaryFile[bytes] | None:
    """Swap ``wsgi.input`` for a seekable copy when the request has a body."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return None
    copy: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)
    source = environ["wsgi.input"]
    remaining = length
    while remaining > 0:
        chunk = source.read(min(remaining, 65536))
        if not chunk:
            break
        copy.write(chunk)
        remaining -= len(chunk)
    copy.seek(0)
    environ["wsgi.input"] = copy
    return copy
