"""Call a WSGI application the way a server would, in-process.

::

    from wsgihub.testing import call

    result = call(hub, "/new/users/5?tab=x", HTTP_HOST="example.com")
    result.code, result.text, result.header("Content-Type")

Every call gets a complete PEP 3333 environ (:func:`make_environ`), the
body is consumed and closed (as servers must), and the result keeps the
environ the app saw, so a test can look at ``SCRIPT_NAME``/``PATH_INFO``
after the hub shifted them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import Environ, Headers, StartResponse, WSGIApplication

__all__ = ["Result", "call", "echo_app", "make_environ"]


@dataclass
class Result:
    """What an app answered: the last status it started, its headers and whole body."""

    status: str
    headers: Headers
    body: bytes
    environ: Environ = field(default_factory=dict)

    @property
    def code(self) -> int:
        """The status code (``404`` for ``"404 Not Found"``)."""
        return int(self.status.split()[0])

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode()

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


def make_environ(path: str = "/", method: str = "GET", script_name: str = "", **extra: Any) -> Environ:
    """A complete PEP 3333 environ for ``path`` (``?query`` split off) on ``localhost``.

    ``extra`` keys are set last (``HTTP_HOST="example.com"``,
    ``wsgi.url_scheme`` through ``**{"wsgi.url_scheme": "https"}``).
    """
    path, _, query = path.partition("?")
    environ: Environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(extra)
    return environ


def call(app: WSGIApplication, path: str = "/", method: str = "GET", **extra: Any) -> Result:
    """Run ``app`` on a request for ``path``; consume and close the body.

    ``extra`` goes to :func:`make_environ`.  Raises :class:`AssertionError`
    when the app never called ``start_response``.
    """
    environ = make_environ(path, method, **extra)
    started: list[tuple[str, Headers]] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    body_iter: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(body_iter)
    finally:
        close = getattr(body_iter, "close", None)
        if close is not None:
            close()
    assert started, f"{app!r} returned without calling start_response"
    status, headers = started[-1]
    return Result(status, headers, body, environ)


def echo_app(name: str) -> WSGIApplication:
    """A plain WSGI app answering ``name SCRIPT_NAME|PATH_INFO`` (no adapter knows it)."""

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        text = f"{name} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text.encode()]

    app.__name__ = f"echo_{name}"
    return app
