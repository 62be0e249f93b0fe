"""Real Pyramid and Flask apps for the Pyramid adapter's tests.

Cross-app tests also mount a Flask app, handled by the ``wsgihub-flask``
adapter (the tox env installs it).  Helpers travel as fixtures, so no test
module imports this file (``--import-mode=importlib`` friendly).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory

import wsgihub
from wsgihub.plugins import make_plugins


@pytest.fixture
def hub() -> Iterator[wsgihub.Hub]:
    """A hub with every installed plugin: Pyramid's and Flask's, found by entry point."""
    # localhost too: the Flask mounts get these as TRUSTED_HOSTS and webtest sends Host: localhost
    yield wsgihub.Hub(trusted_hosts=["example.com", "localhost"], plugins=make_plugins())


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
    config.add_static_view("static", "pyramid:scripts")
    config.add_view(lambda request: Response("pyramid home"), route_name="home")
    config.add_view(
        lambda request: Response(f"pyramid user {request.matchdict['uid']}"), route_name="user"
    )
    config.add_view(
        lambda request: Response("pyramid edit"), route_name="user_edit", request_method="POST"
    )
    config.add_view(
        lambda request: Response("/".join(request.matchdict["path"])), route_name="files"
    )
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
