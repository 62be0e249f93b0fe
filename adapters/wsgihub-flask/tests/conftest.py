"""Fixtures for the Flask adapter's tests: real Flask and Werkzeug apps, real hubs.

Hubs get the Flask and Werkzeug plugins registered explicitly (no entry
point autoload), so another installed adapter cannot change what these
tests see; one test checks the entry points separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import flask
import pytest
import wsgihub_flask.plugin
import wsgihub_werkzeug.plugin
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import serving
from wsgihub.testing.fixtures import module_folder  # noqa: F401  (the kit's fixture: test_*_deploy.py)


def make_flask(name: str, secret: str | None = "secret", **config: Any) -> flask.Flask:
    """A small Flask app: ``index``, ``user``, a GET-only ``report``, a ``login`` form.

    ``app.calls`` counts requests that reached the app (404s included);
    ``app.teardowns`` counts popped request contexts.
    """
    app = flask.Flask(name)
    app.secret_key = secret
    app.config["SESSION_COOKIE_NAME"] = f"{name}_session"  # no collisions unless a test wants one
    app.config.update(config)
    app.calls = 0  # type: ignore[attr-defined]
    app.teardowns = 0  # type: ignore[attr-defined]

    @app.before_request
    def count() -> None:
        app.calls += 1  # type: ignore[attr-defined]

    @app.teardown_request
    def torn_down(exc: BaseException | None) -> None:
        app.teardowns += 1  # type: ignore[attr-defined]

    @app.route("/", endpoint="index")
    def index() -> str:
        return f"{name} index"

    @app.route("/users/<int:uid>", endpoint="user")
    def user(uid: int) -> str:
        return f"{name} user {uid} {flask.url_for('user', uid=uid)}"

    @app.route("/reports/<int:rid>", endpoint="report", methods=["GET"])
    def report(rid: int) -> str:
        return f"{name} report {rid}"

    @app.route("/login", endpoint="login", methods=["GET", "POST"])
    def login() -> str:
        return f"{name} login {flask.request.method}"

    return app


class ShopApp:
    """A plain Werkzeug app; ``on_index(request)`` makes the index body."""

    def __init__(self) -> None:
        self.calls = 0
        self.url_map = Map(
            [
                Rule("/", endpoint="index"),
                Rule("/items/<int:id>", endpoint="item", methods=["GET"]),
                Rule("/reports/<int:rid>", endpoint="report"),
            ]
        )
        self.on_index: Callable[[Request], str] = lambda request: "shop index"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            return exc(environ, start_response)
        body = self.on_index(request) if endpoint == "index" else f"shop {endpoint} {args} {request.method}"
        return Response(body)(environ, start_response)


@pytest.fixture
def flask_app() -> Callable[..., flask.Flask]:
    """``flask_app(name, secret="secret", **config)``: see :func:`make_flask`."""
    return make_flask


@pytest.fixture
def shop() -> ShopApp:
    return ShopApp()


@pytest.fixture
def make_hub() -> Callable[..., wsgihub.Hub]:
    """``make_hub(**hub_options)``: a hub with the Flask and Werkzeug plugins only."""

    def make(**options: Any) -> wsgihub.Hub:
        plugins = make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin, wsgihub_flask.plugin])
        return wsgihub.Hub(plugins=plugins, **options)

    return make


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """``serve(app) -> "http://127.0.0.1:PORT"``: wsgihub's waitress server on loopback (the testing kit's)."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serving(app)).url
