"""The Flask adapter passes wsgihub's adapter conformance suite (wsgihub.testing.conformance)."""

from __future__ import annotations

import flask
import wsgihub_flask.plugin
import wsgihub_werkzeug.plugin

from wsgihub.plugins import Plugins, make_plugins
from wsgihub.testing.conformance import AdapterConformance, RouteCase


def make_app() -> flask.Flask:
    """A Flask app with a session, an ``index``, a GET-only ``user`` and a ``login`` form."""
    app = flask.Flask("conformance")
    app.secret_key = "conformance-secret"

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/users/<int:uid>", methods=["GET"])
    def user(uid: int) -> str:
        return f"user {uid} {flask.url_for('user', uid=uid)}"

    @app.route("/login", methods=["GET", "POST"])
    def login() -> str:
        return f"login {flask.request.method}"

    return app


class TestFlaskConformance(AdapterConformance):
    framework = "flask"
    route = RouteCase(
        endpoint="user",
        rule="/users/<int:uid>",
        values={"uid": 5},
        path="/users/5",
        missing="uid",
        bad={"uid": "x"},
        methods=frozenset({"GET", "HEAD", "OPTIONS"}),
    )
    cookies = frozenset({"session"})
    refuses_untrusted_hosts = True  # the hub's trusted hosts are Flask's TRUSTED_HOSTS

    def make_app(self) -> flask.Flask:
        return make_app()

    def make_plugins(self) -> Plugins:
        return make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin, wsgihub_flask.plugin])

    def framework_state(self) -> object:
        """The request Flask sees as current (``None`` outside a request context)."""
        return flask.request._get_current_object() if flask.has_request_context() else None  # type: ignore[attr-defined]
