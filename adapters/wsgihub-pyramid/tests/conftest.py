"""Real Pyramid and Flask apps for the Pyramid adapter's tests.

Cross-app tests also mount a Flask app.  When the ``wsgihub-flask``
distribution is installed its adapter handles it; otherwise the small
Werkzeug-routing adapter below does (registered ``trylast``, so any
installed Flask or Werkzeug plugin wins).  It builds with Werkzeug's own
``Map.bind().build()``: real routing, not a stand-in.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import flask
import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BuildError

import wsgihub
from wsgihub import hookimpl
from wsgihub.adapter import Adapter, AppRoute, Cookie, find_instance
from wsgihub.errors import UnknownEndpointError, URLBuildError
from wsgihub.plugins import make_plugins


class FlaskMapAdapter(Adapter):
    """Flask through Werkzeug's routing: enough for cross-app tests."""

    framework = "flask"

    def build(self, endpoint: str, values: Mapping[str, Any], *, script_name: str, scheme: str,
              host: str | None, method: str | None = None) -> str:
        bound = self.app.url_map.bind(host or "localhost", script_name=script_name or "/", url_scheme=scheme)  # type: ignore[attr-defined]
        try:
            return bound.build(endpoint, dict(values), method=method, force_external=host is not None)  # type: ignore[no-any-return]
        except BuildError as exc:
            known = {r.endpoint for r in self.app.url_map.iter_rules()}  # type: ignore[attr-defined]
            kind = URLBuildError if endpoint in known else UnknownEndpointError
            raise kind(f"cannot build {endpoint!r}", endpoint) from exc

    def routes(self) -> list[AppRoute]:
        return [AppRoute(r.endpoint, r.rule, frozenset(r.methods or ()) or None) for r in self.app.url_map.iter_rules()]  # type: ignore[attr-defined]

    def match(self, path_info: str, method: str) -> bool:
        try:
            self.app.url_map.bind("localhost").match(path_info, method)  # type: ignore[attr-defined]
        except (NotFound, MethodNotAllowed):
            return False
        except Exception:  # redirects and the like: Flask answers them
            return True
        return True

    def request_context(self, environ: dict[str, Any]) -> Any:
        return self.app.request_context(environ)  # type: ignore[attr-defined]

    def cookies(self) -> list[Cookie]:
        config = self.app.config  # type: ignore[attr-defined]
        path = config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/"
        return [Cookie(config["SESSION_COOKIE_NAME"], path, config.get("SESSION_COOKIE_DOMAIN") or None)]


class FlaskFallbackPlugin:
    @hookimpl(trylast=True)
    def wsgihub_adapter(self, app: Any, layers: Any, framework: str | None) -> Adapter | None:
        if framework not in (None, "flask"):
            return None
        found = find_instance(layers, "flask.app", "Flask")
        return FlaskMapAdapter(found, app) if found is not None else None


@pytest.fixture
def hub() -> Iterator[wsgihub.Hub]:
    """A hub with every installed plugin (Pyramid's by entry point) and the Flask fallback."""
    yield wsgihub.Hub(trusted_hosts=["example.com"], plugins=make_plugins(plugins=[FlaskFallbackPlugin()]))


def make_pyramid_app(
    setup: Callable[[Configurator], None] | None = None,
    *,
    session: bool = False,
    include: bool = True,
    settings: dict[str, Any] | None = None,
) -> Any:
    """A real Pyramid app: users (GET), user edit (POST views), home, a static view."""
    config = Configurator(settings=settings or {})
    if include:
        config.include("wsgihub_pyramid")
    if session:
        config.set_session_factory(SignedCookieSessionFactory("pyramid-secret"))
    config.add_route("home", "/")
    config.add_route("user", "/users/{uid}", request_method="GET")
    config.add_route("user_edit", "/users/{uid}/edit")
    config.add_route("files", "/files/*path")
    config.add_static_view("static", "wsgihub_pyramid:")
    config.add_view(lambda request: Response("pyramid home"), route_name="home")
    config.add_view(lambda request: Response(f"pyramid user {request.matchdict['uid']}"), route_name="user")
    config.add_view(lambda request: Response("pyramid edit"), route_name="user_edit", request_method="POST")
    config.add_view(lambda request: Response("/".join(request.matchdict["path"])), route_name="files")
    if setup is not None:
        setup(config)
    return config.make_wsgi_app()


def make_flask_app(setup: Callable[[flask.Flask], None] | None = None) -> flask.Flask:
    """A real Flask app with a ``user`` endpoint and a session."""
    app = flask.Flask("flask_side")
    app.secret_key = "flask-secret"

    @app.route("/users/<int:uid>")
    def user(uid: int) -> str:
        return f"flask user {uid}"

    @app.route("/reports", methods=["GET"])
    def reports() -> str:
        return "flask reports"

    if setup is not None:
        setup(app)
    return app


@pytest.fixture
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture
def make_pyramid() -> Callable[..., Any]:
    """:func:`make_pyramid_app`, for tests (helpers travel as fixtures: no conftest imports)."""
    return make_pyramid_app


@pytest.fixture
def make_flask() -> Callable[..., flask.Flask]:
    """:func:`make_flask_app`, for tests."""
    return make_flask_app
