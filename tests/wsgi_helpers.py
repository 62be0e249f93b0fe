"""Helpers for the core tests: call a WSGI app the way a server would."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    environ: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> int:
        return int(self.status.split()[0])

    @property
    def text(self) -> str:
        return self.body.decode()


def make_environ(path: str = "/", method: str = "GET", script_name: str = "", **extra: Any) -> dict[str, Any]:
    """A complete PEP 3333 environ for ``path`` on localhost."""
    path, _, query = path.partition("?")
    environ: dict[str, Any] = {
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


def call(app: Any, path: str = "/", method: str = "GET", **extra: Any) -> Result:
    """Run ``app`` on a request for ``path``; consume and close the body."""
    environ = make_environ(path, method, **extra)
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    body_iter: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(body_iter)
    finally:
        close = getattr(body_iter, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return Result(status, headers, body, environ)


def echo_app(name: str) -> Any:
    """A plain WSGI app answering ``name SCRIPT_NAME|PATH_INFO``."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        text = f"{name} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text.encode()]

    app.__name__ = f"echo_{name}"
    return app
