"""WebOb's redirects never carry an untrusted Host (issue 8 §1 follow-up).

WebOb makes a relative ``Location`` absolute with the request's ``Host``
(``HTTPFound(location="/x")``, ``append_slash``).  A hub with
``trusted_hosts`` or ``public_url`` makes its Pyramid mounts answer other
Hosts 400 before any view.  Served by waitress on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import wsgihub_pyramid.plugin
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.interfaces import INewRequest
from pyramid.response import Response

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import LiveServer, serving


def _hub(**options: Any) -> wsgihub.Hub:
    return wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_pyramid.plugin]), **options)


def _app() -> Any:
    def go(request: Any) -> HTTPFound:
        return HTTPFound(location="/api/there")

    with Configurator() as config:
        config.add_route("go", "/go")
        config.add_view(go, route_name="go")
        config.add_route("there", "/there/")
        config.add_view(lambda request: Response("there"), route_name="there")
        config.add_notfound_view(lambda request: Response("nf", status=404), append_slash=True)
        return config.make_wsgi_app()


def _get(server: LiveServer, path: str, host: str) -> tuple[int, str | None, bytes]:
    """GET ``path`` with this exact ``Host`` (sent as given, not replaced by the server's)."""
    result = server.get(path, headers={"Host": host})
    return result.code, result.header("Location"), result.body


@pytest.fixture
def server() -> Iterator[LiveServer]:
    hub = _hub(trusted_hosts=["example.com", ".example.org", "[::1]"], public_url="https://www.example.net")
    hub.mount("/api", _app())
    with serving(hub) as server:
        yield server


@pytest.mark.parametrize("path", ["/api/go", "/api/there"])
@pytest.mark.parametrize("host", ["evil.com", "example.com.evil.com", "example.com@evil.com", "[::2]"])
def test_an_untrusted_host_gets_400_before_any_view(server: LiveServer, path: str, host: str) -> None:
    assert _get(server, path, host) == (400, None, b"Bad Request: untrusted Host\n")


@pytest.mark.parametrize(
    ("host", "path", "location"),
    [
        ("example.com", "/api/go", "http://example.com/api/there"),
        ("api.example.org:8080", "/api/go", "http://api.example.org:8080/api/there"),
        ("www.example.net", "/api/there", "http://www.example.net/api/there/"),  # public_url's host
        ("[::1]:8080", "/api/go", "http://[::1]:8080/api/there"),
    ],
)
def test_a_trusted_host_is_redirected_with_that_host(server: LiveServer, host: str, path: str, location: str) -> None:
    status, got, _ = _get(server, path, host)
    assert (status, got) == (302 if path.endswith("go") else 307, location)


def test_unmounting_removes_the_check_and_a_hub_that_trusts_anything_adds_none() -> None:
    app = _app()
    hub = _hub(trusted_hosts=["example.com"])
    peg = hub.mount("/api", app)
    assert len(_host_checks(app)) == 1
    hub.unmount(peg)
    assert not [h for h in app.registry.registeredHandlers() if INewRequest in h.required]
    for options in ({}, {"trusted_hosts": ["*"]}):
        other = _hub(**options)
        other.mount("/api", app)
        assert not _host_checks(app)


def _host_checks(app: Any) -> list[Any]:
    """The Host checks in ``app``'s registry (the path check, paths.py, is always there)."""
    return [h for h in app.registry.registeredHandlers() if h.factory.__name__ == "check_host"]


def test_request_context_is_entered_by_code_and_not_checked() -> None:
    hub = _hub(trusted_hosts=["example.com"])
    hub.mount("/api", _app())
    with hub.request_context("api", {"HTTP_HOST": "localhost"}) as request:
        assert request.route_path("go") == "/api/go"


def test_a_path_that_is_not_utf8_is_400_and_unmounting_removes_the_check() -> None:
    app = _app()
    hub = _hub()  # trusts any Host: the path check does not depend on it
    peg = hub.mount("/api", app)
    with serving(hub) as server:
        status, _, body = _get(server, "/api/go%ff", "localhost")
        assert (status, body) == (400, b"Bad Request: the path is not UTF-8\n")
        assert _get(server, "/api/there/", "localhost")[0] == 200
        assert _get(server, "/api/caf%C3%A9", "localhost")[0] == 404  # UTF-8: routed as ever
    hub.unmount(peg)
    assert not [h for h in app.registry.registeredHandlers() if INewRequest in h.required]
