"""The Flask adapter checks Host with the hub's HostTrust before Flask runs.

Flask's ``TRUSTED_HOSTS`` stays the app's own (unset unless the app set
it): the hub's check sits in front of the mount (``wsgihub.urls.HostCheck``),
so an untrusted Host never reaches Flask -- no ``before_request``, no
``request_started`` -- unless the app has its own 400 page, which Flask
renders as before.  An app that sets ``TRUSTED_HOSTS`` itself keeps
Flask's check with its own list.  Served by waitress on loopback.
"""

from __future__ import annotations

from typing import Any

import flask
import pytest
import wsgihub_flask.plugin
import wsgihub_werkzeug.plugin

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import serving
from wsgihub.testing.client import call

pytestmark = pytest.mark.skipif(
    "TRUSTED_HOSTS" not in flask.Flask.default_config, reason="Flask < 3.1 has no TRUSTED_HOSTS"
)


def _hub(**options: Any) -> wsgihub.Hub:
    plugins = make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin, wsgihub_flask.plugin])
    return wsgihub.Hub(plugins=plugins, **options)


def _app(**config: Any) -> tuple[flask.Flask, list[str]]:
    app = flask.Flask("checked")
    app.config.update(config)
    seen: list[str] = []

    @app.before_request
    def note() -> None:
        seen.append(flask.request.host)

    @app.route("/reports/")
    def reports() -> str:
        return "reports"

    return app, seen


def test_flasks_trusted_hosts_stay_unset_and_the_hub_checks_first() -> None:
    app, seen = _app()
    hub = _hub(trusted_hosts=["example.com", ".example.org"], public_url="https://www.example.net/")
    hub.mount("/new", app)
    assert app.config["TRUSTED_HOSTS"] is None
    received: list[object] = []
    flask.request_started.connect(received.append, app, weak=False)
    try:
        with serving(hub) as server:
            for host in ["evil.com", "my_host.example.org", "a..example.org", "example.com@evil.com"]:
                result = server.get("/new/reports", headers={"Host": host})
                assert (result.code, result.body) == (400, b"Bad Request: untrusted Host\n"), host
            assert (seen, received) == ([], []), "Flask never ran for an untrusted Host"
            ok = server.get("/new/reports", headers={"Host": "API.example.org"})
            assert (ok.code, ok.header("Location")) == (308, "http://api.example.org/new/reports/")
            assert server.get("/new/reports/", headers={"Host": "www.example.net"}).body == b"reports"
    finally:
        flask.request_started.disconnect(received.append, app)
    assert seen == ["API.example.org", "www.example.net"]  # the trusted ones only


def test_an_apps_own_trusted_hosts_are_flasks_check() -> None:
    app, _ = _app(TRUSTED_HOSTS=["intranet.test"])
    hub = _hub(trusted_hosts=["example.com"])
    hub.mount("/new", app)
    assert app.config["TRUSTED_HOSTS"] == ["intranet.test"]
    with serving(hub) as server:
        assert server.get("/new/reports/", headers={"Host": "intranet.test"}).code == 200
        assert server.get("/new/reports/", headers={"Host": "example.com"}).code == 400  # Flask's own answer


def test_an_apps_own_400_page_gets_the_hosts_error_as_flask_gave_it() -> None:
    app, seen = _app()
    errors: list[str] = []

    @app.errorhandler(400)
    def bad(error: Any) -> tuple[str, int]:
        errors.append(f"{type(error).__name__}: {error.description}")
        return "our own 400", 400

    @app.after_request
    def stamp(response: flask.Response) -> flask.Response:
        response.headers["X-Seen"] = "after_request"
        return response

    hub = _hub(trusted_hosts=["example.com"])
    hub.mount("/new", app)
    result = call(hub, "/new/reports/", HTTP_HOST="evil.com")
    assert (result.code, result.body, result.header("X-Seen")) == (400, b"our own 400", "after_request")
    assert errors == ["SecurityError: Host 'evil.com' is not trusted."]
    assert seen == [], "no before_request for an untrusted Host"


def test_unmounting_leaves_the_app_as_it_was() -> None:
    app, _ = _app()
    hub = _hub(trusted_hosts=["example.com"])
    peg = hub.mount("/new", app)
    assert peg.app is not app and peg.app.import_name == "checked"  # the check passes attributes through
    hub.unmount(peg)
    assert app.config["TRUSTED_HOSTS"] is None
    assert not app.error_handler_spec.get(None, {}).get(400)
    assert call(app, "/reports/", HTTP_HOST="evil.com").code == 200


def _proxied(own_400: list[str] | None = None) -> tuple[flask.Flask, list[str], wsgihub.Hub]:
    from werkzeug.middleware.proxy_fix import ProxyFix

    app, seen = _app()
    if own_400 is not None:

        @app.errorhandler(400)
        def bad(error: Any) -> tuple[str, int]:
            own_400.append(error.description)
            return "our own 400", 400

    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    hub = _hub(trusted_hosts=["example.com", ".example.org"])
    hub.mount("/new", app)
    return app, seen, hub


def test_a_host_rewritten_by_middleware_inside_the_app_is_checked_too() -> None:
    """``app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)`` changes the Host after the check in
    front of the mount: the Host Flask ends up with is checked again, inside Flask."""
    app, seen, hub = _proxied()
    forged = call(hub, "/new/reports", HTTP_HOST="example.com", HTTP_X_FORWARDED_HOST="evil.com")
    assert (forged.code, forged.header("Location"), forged.body) == (400, None, b"Bad Request: untrusted Host\n")
    assert seen == []
    good = call(hub, "/new/reports", HTTP_HOST="example.com", HTTP_X_FORWARDED_HOST="api.example.org")
    assert (good.code, good.header("Location")) == (308, "http://api.example.org/new/reports/")
    # the app alone (not served by a hub) is left as it was
    assert call(app, "/reports/", HTTP_HOST="example.com", HTTP_X_FORWARDED_HOST="evil.com").code == 200


def test_an_apps_own_400_page_renders_a_host_rewritten_inside() -> None:
    errors: list[str] = []
    _, seen, hub = _proxied(errors)
    result = call(hub, "/new/reports/", HTTP_HOST="example.com", HTTP_X_FORWARDED_HOST="evil.com")
    assert (result.code, result.body, errors, seen) == (400, b"our own 400", ["Host 'evil.com' is not trusted."], [])
