"""WSGI plumbing the core shares: a blank environ, closing and consuming a response.

The hub sends requests of its own (wsgi_party invitations, request contexts
outside a request), and the board and the cascade close response iterables
on every path; these helpers keep those rules in one place.
"""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import Environ, WSGIApplication

__all__ = ["blank_environ", "close_body", "consume"]


def blank_environ(
    path: str, *, query: str = "", scheme: str = "http", host: str = "localhost", script_name: str = ""
) -> Environ:
    """A minimal PEP 3333 GET environ for ``path`` on ``host`` (``name[:port]``)."""
    name, _, port = host.partition(":")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": name,
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def close_body(body: object) -> None:
    """Call a response iterable's ``close()`` if it has one (PEP 3333 requires it)."""
    close = getattr(body, "close", None)
    if close is not None:
        close()


def consume(app: WSGIApplication, environ: Environ) -> str | None:
    """Call ``app``, read its body to the end and close it; return the last status it started.

    ``None`` if the app never called ``start_response``.  ``write()`` output
    is dropped, like the body's.  (Letting in-flight requests finish at
    shutdown is *draining*; this is *consuming*.)
    """
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    body = app(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        close_body(body)
    return statuses[-1] if statuses else None
