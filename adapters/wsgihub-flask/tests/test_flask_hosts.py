"""Flask's own absolute URLs never carry an untrusted Host (issue 8 §1 follow-up).

Flask's slash redirects and ``url_for(..., _external=True)`` in a view use
the request's ``Host``.  A hub with ``trusted_hosts`` or ``public_url``
checks the Host before Flask runs (``wsgihub_flask.hosts``), so an untrusted
Host is answered 400 (as Django answers ``DisallowedHost``); Flask's own
``TRUSTED_HOSTS`` stays the app's.  Served by waitress on loopback, requests
sent byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import flask
import pytest
import wsgihub_flask.plugin
import wsgihub_werkzeug.plugin

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import LiveServer, serving
from wsgihub.testing.client import call

pytestmark = pytest.mark.skipif(
    "TRUSTED_HOSTS" not in flask.Flask.default_config, reason="Flask < 3.1 has no TRUSTED_HOSTS"
)


def _hub(**options: Any) -> wsgihub.Hub:
    plugins = make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin, wsgihub_flask.plugin])
    return wsgihub.Hub(plugins=plugins, **options)


def _app(**config: Any) -> flask.Flask:
    app = flask.Flask("reports")
    app.config.update(config)

    @app.route("/reports/")
    def reports() -> str:
        return "reports"

    @app.route("/go")
    def go() -> flask.Response:
        return flask.redirect(flask.url_for("reports", _external=True))

    return app


def _get(server: LiveServer, path: str, host: str) -> tuple[int, str | None]:
    status, location, _ = _exchange(server, path, host)
    return status, location


def _exchange(server: LiveServer, path: str, host: str) -> tuple[int, str | None, bytes]:
    """GET ``path`` with this exact ``Host`` (sent as given, not replaced by the server's)."""
    result = server.get(path, headers={"Host": host})
    return result.code, result.header("Location"), result.body


@pytest.fixture
def served() -> Iterator[tuple[LiveServer, flask.Flask]]:
    app = _app()
    hub = _hub(trusted_hosts=["example.com", ".example.org"], public_url="https://www.example.net/site")
    hub.mount("/new", app)
    with serving(hub) as server:
        yield server, app


@pytest.mark.parametrize("path", ["/new/reports", "/new//reports/", "/new/go"])
@pytest.mark.parametrize("host", ["evil.com", "evil.com:80", "example.com.evil.com", "notexample.org", "example.com@evil.com"])
def test_an_untrusted_host_gets_400_from_flask_itself(served: tuple[LiveServer, flask.Flask], path: str, host: str) -> None:
    server, _ = served
    status, location, body = _exchange(server, path, host)
    assert (status, location) == (400, None)
    assert body == b"Bad Request: untrusted Host\n"  # the hub's answer: the Host is not echoed


@pytest.mark.parametrize(
    ("host", "path", "location"),
    [
        ("example.com", "/new/reports", "http://example.com/new/reports/"),
        ("example.com:8080", "/new/reports", "http://example.com:8080/new/reports/"),
        ("api.example.org", "/new/reports", "http://api.example.org/new/reports/"),
        ("example.org", "/new/go", "http://example.org/new/reports/"),
        ("www.example.net", "/new/reports", "http://www.example.net/new/reports/"),  # public_url's host
    ],
)
def test_a_trusted_host_is_redirected_with_that_host(
    served: tuple[LiveServer, flask.Flask], host: str, path: str, location: str
) -> None:
    server, _ = served
    status, got = _get(server, path, host)
    assert (status, got) == (308 if path.endswith("reports") else 302, location)
    assert _get(server, "/new/reports/", host)[0] == 200


def test_each_hub_checks_with_its_own_list_and_unmounting_takes_it_back() -> None:
    app = _app()
    hub = _hub(trusted_hosts=["example.com", ".example.org"], public_url="https://www.example.net/site")
    peg = hub.mount("/new", app)
    other = _hub(trusted_hosts=["example.com"])
    other.mount("/again", app)  # the same app on a second hub: that hub's list
    assert call(hub, "/new/reports/", HTTP_HOST="www.example.net").code == 200
    assert call(other, "/again/reports/", HTTP_HOST="www.example.net").code == 400
    hub.unmount(peg)
    assert call(other, "/again/reports/", HTTP_HOST="example.com").code == 200
    other.unmount("again")
    assert app.config["TRUSTED_HOSTS"] is None
    assert call(app, "/reports/", HTTP_HOST="www.example.net").code == 200  # the app alone checks nothing


@pytest.mark.parametrize(
    ("options", "evil"),
    [
        ({}, 200),  # the hub restricts nothing: neither does the mount
        ({"trusted_hosts": ["*"]}, 200),
        ({"public_url": "https://example.com"}, 400),
    ],
    ids=["nothing", "wildcard", "public-url"],
)
def test_what_the_hub_trusts_is_what_the_flask_mount_takes(options: dict[str, Any], evil: int) -> None:
    app = _app()
    hub = _hub(**options)
    hub.mount("/new", app)
    assert app.config["TRUSTED_HOSTS"] is None
    assert call(hub, "/new/reports/", HTTP_HOST="example.com").code == 200
    assert call(hub, "/new/reports/", HTTP_HOST="evil.com").code == evil


def test_an_apps_own_400_page_is_kept() -> None:
    app = _app()

    @app.errorhandler(400)
    def bad(error: Exception) -> tuple[str, int]:
        return "our own 400", 400

    with serving(_mounted(app)) as server:
        assert _exchange(server, "/new/reports", "evil.com")[::2] == (400, b"our own 400")


def test_unmounting_removes_the_hubs_400_answer() -> None:
    app = _app()
    hub = _hub(trusted_hosts=["example.com"])
    hub.unmount(hub.mount("/new", app))
    assert app.config["TRUSTED_HOSTS"] is None
    assert not app.error_handler_spec.get(None, {}).get(400)


def _mounted(app: flask.Flask) -> wsgihub.Hub:
    hub = _hub(trusted_hosts=["example.com"])
    hub.mount("/new", app)
    return hub


def test_an_apps_own_trusted_hosts_are_kept() -> None:
    own = ["intranet.local"]
    app = _app(TRUSTED_HOSTS=own)
    hub = _hub(trusted_hosts=["example.com"])
    peg = hub.mount("/new", app)
    assert app.config["TRUSTED_HOSTS"] is own
    hub.unmount(peg)
    assert app.config["TRUSTED_HOSTS"] is own


def test_hub_url_for_and_request_context_still_work() -> None:
    """Outside a request the hub uses public_url's host, which Flask now trusts too."""
    standalone = _hub(trusted_hosts=["example.com"], public_url="https://example.com")
    other = _app()
    standalone.mount("/new", other)
    assert standalone.url_for("new:reports", _external=True) == "https://example.com/new/reports/"
    with standalone.request_context("new"):
        assert flask.url_for("reports", _external=True) == "https://example.com/new/reports/"
    # without public_url, code outside a request gets 'localhost', which Flask would refuse:
    # TRUSTED_HOSTS is for clients, a context entered by code still builds URLs
    no_public = _hub(trusted_hosts=["example.com"])
    no_public.mount("/new", _app())
    with no_public.request_context("new") as request:
        assert flask.url_for("reports") == "/new/reports/" and request.host == "localhost"


@pytest.mark.parametrize(
    ("host", "status"),
    [("[::1]", 308), ("[::1]:8080", 308), ("[2001:db8::1]", 308), ("[::2]", 400), ("[::1].evil.com", 400)],
)
def test_an_ipv6_literal_the_hub_trusts_is_trusted_by_flask(host: str, status: int) -> None:
    """Werkzeug cut every TRUSTED_HOSTS entry at its first ':' (to drop a port): '[::1]' became
    '[' and every IPv6 Host got 400 from Flask although the hub trusts it."""
    hub = _hub(trusted_hosts=["example.com", "[::1]", "[2001:DB8::1]"])
    hub.mount("/new", _app())
    with serving(hub) as server:
        got, location = _get(server, "/new/reports", host)
    assert got == status
    if status == 308:
        assert location == f"http://{host}/new/reports/"
