"""wsgi_party invitations: only the hub's own invitation reaches an invite route (issue 8 §2).

A real Flask app written for wsgi_party, mounted with ``invite_path``, served
by a real waitress on loopback; raw request lines through ``http.client`` so
the path reaches the server exactly as spelled.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from wsgi_helpers import call

from wsgihub import Hub
from wsgihub.invitation import INVITATION, is_invitation, outside_path_reaches
from wsgihub.plugins import make_plugins

flask = pytest.importorskip("flask")
waitress_server = pytest.importorskip("waitress.server")


def party_flask_app(joined: list[Any]) -> Any:
    app = flask.Flask("old")

    @app.route("/__invite__/")
    def invite() -> str:
        operator = flask.request.environ.get("partyline")
        joined.append(operator)
        return "joined"

    @app.route("/")
    def index() -> str:
        return "index"

    return app


@pytest.fixture
def served() -> Iterator[tuple[str, int, list[Any]]]:
    joined: list[Any] = []
    hub = Hub(plugins=make_plugins())
    hub.mount("/old", party_flask_app(joined), invite_path="/__invite__/")
    assert len(joined) == 1 and joined[0] is not None, "the hub's invitation got through"
    server = waitress_server.create_server(hub, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.effective_port, joined
    finally:
        server.close()
        thread.join(5)


def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


SPELLINGS = [
    "/old/__invite__/",
    "/old/__invite__",
    "/old//__invite__/",
    "/old//__invite__",
    "/old///__invite__//",
    "/old/./__invite__/",
    "/old/x/../__invite__/",
    "/old/__invite__/.",
    "/old/%2F__invite__/",
    "/old/%5F%5Finvite%5F%5F/",
    "/old/__INVITE__/",
    "/old/__invite__/?x=1",
    "//old/__invite__/",
]


def test_outside_requests_never_reach_the_invite_route(served: tuple[str, int, list[Any]]) -> None:
    host, port, joined = served
    assert get(host, port, "/old/") == (200, b"index")
    for path in SPELLINGS:
        status, body = get(host, port, path)
        assert body != b"joined" and status != 200, (path, status, body)
    assert len(joined) == 1, "no outside request joined the partyline"


@pytest.mark.parametrize(
    "path",
    [
        "/__invite__/",
        "/__invite__",
        "//__invite__/",
        "/./__invite__/",
        "/a/../__invite__//",
        "/__Invite__/",
        "/../__invite__/",
        "/%5F%5Finvite%5F%5F/",  # escapes a server left in PATH_INFO
        "/%2F__invite__",
        "/%2e/__invite__/",
    ],
)
def test_spellings_that_a_router_would_send_to_the_invite_path(path: str) -> None:
    assert outside_path_reaches(path, "/__invite__/")


@pytest.mark.parametrize("path", ["/", "/__invite__/x", "/x/__invite__/", "/__invite", "/__invite__x/"])
def test_other_paths_pass(path: str) -> None:
    assert not outside_path_reaches(path, "/__invite__/")


def test_the_invitation_is_marked_by_what_no_client_can_send() -> None:
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(dict(environ))
        start_response("200 OK", [])
        return [b""]

    hub = Hub(plugins=make_plugins(autoload=False))
    hub.mount("/old", app, invite_path="/__invite__/")
    assert is_invitation(seen[0]) and seen[0][INVITATION] is not None
    forged = call(hub, "/old/__invite__/", **{"HTTP_WSGIHUB_INVITATION": "1", "wsgihub.invitation": True})
    assert forged.code == 404 and len(seen) == 1
