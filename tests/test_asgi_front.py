"""The native front layers' response header, through ``hub.asgi`` as ``wsgihub serve`` builds it.

The request-ID header joins a native response's ``http.response.start``
unless the app set it; the app's own message and header list are left as
they are (an app may send the same message for every request), and headers
given as an iterator are read once (all of them reach the client).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("wsgihub_starlette")

from starlette.applications import Starlette
from starlette.routing import Route

import wsgihub
from wsgihub.asgi import ASGIHub
from wsgihub.serve import ServeOptions
from wsgihub.servers.front import front

#: One response start for every request (as a hand-written ASGI app may keep it).
SAME_START: dict[str, Any] = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
}


class SameStart:
    """An ASGI endpoint sending :data:`SAME_START` itself, every time."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(SAME_START)
        await send({"type": "http.response.body", "body": b"ok"})


class IteratorHeaders:
    """An ASGI endpoint giving its response headers as a generator."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        pairs = [(b"content-type", b"text/plain"), (b"x-app", b"yes"), (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": (pair for pair in pairs)})
        await send({"type": "http.response.body", "body": b"ok"})


class OwnId:
    """An ASGI endpoint setting the ID header itself (in another case)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"X-Request-Id", b"the-apps-own"), (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})


def served_hub() -> ASGIHub:
    """``hub.asgi`` with the front layers' defaults (request IDs on), a Starlette app at ``/s``."""
    app = Starlette(routes=[Route("/same", SameStart()), Route("/iter", IteratorHeaders()), Route("/own", OwnId())])
    hub = wsgihub.Hub()
    hub.mount("/s", app, name="s")
    options = ServeOptions()
    return ASGIHub(hub, front(hub, options), options=options)


def get(app: ASGIHub, path: str) -> list[dict[str, Any]]:
    """The messages ``app`` sends for ``GET path``."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(b"host", b"example.com")], "client": ("198.51.100.1", 5000), "server": ("example.com", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def ids(start: dict[str, Any]) -> list[bytes]:
    return [value for name, value in start["headers"] if name.lower() == b"x-request-id"]


def test_the_same_start_message_sent_for_every_request_gets_each_requests_id() -> None:
    app = served_hub()
    before = list(SAME_START["headers"])
    first, second = get(app, "/s/same")[0], get(app, "/s/same")[0]
    assert len(ids(first)) == 1 and len(ids(second)) == 1 and ids(first) != ids(second)
    assert SAME_START["headers"] == before and "x-request-id" not in str(SAME_START)  # the app's own untouched


def test_headers_given_as_an_iterator_all_reach_the_client_with_the_id() -> None:
    start = get(served_hub(), "/s/iter")[0]
    names = [name for name, _ in start["headers"]]
    assert names[:3] == [b"content-type", b"x-app", b"content-length"] and len(ids(start)) == 1


def test_an_id_header_the_app_set_is_kept_alone() -> None:
    start = get(served_hub(), "/s/own")[0]
    assert ids(start) == [b"the-apps-own"]
