"""Plain WSGI apps that echo where a request landed (no framework, no adapter)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any


def _echo(name: str) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = json.dumps(
            {
                "app": name,
                "pid": os.getpid(),
                "script_name": environ.get("SCRIPT_NAME", ""),
                "path_info": environ.get("PATH_INFO", ""),
            }
        ).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    app.__name__ = app.__qualname__ = f"app_{name}"
    return app


app_a = _echo("a")
app_b = _echo("b")


#: Printed (flushed) by :func:`slow` when a request arrives, so a test in
#: another process can wait for requests to be in flight instead of sleeping.
ARRIVED = "MARKER slow request arrived"


def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Sleep ``?seconds`` (default 1) and answer 200: a request in flight.

    Prints :data:`ARRIVED` on stdout first (one line, flushed).
    """
    query = environ.get("QUERY_STRING", "")
    seconds = float(query.partition("=")[2]) if query.startswith("seconds=") else 1.0
    sys.stdout.write(ARRIVED + "\n")
    sys.stdout.flush()
    time.sleep(seconds)
    body = b"slept"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def echo_factory(global_conf: dict[str, str], **local_conf: str) -> Callable[..., Iterable[bytes]]:
    """PasteDeploy app factory (``use = call:live_apps.echo:echo_factory``): the ``a`` echo."""
    return app_a
