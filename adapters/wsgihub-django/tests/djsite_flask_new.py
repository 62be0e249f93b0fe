"""The Flask app mounted next to the Django project ("new"), and a minimal Flask adapter.

The stand-in adapter keeps these tests independent of the wsgihub-flask
distribution: it builds with Werkzeug's public ``url_map.bind`` and enters
Flask's own request context, which is all the Django tests need.
"""

from __future__ import annotations

from typing import Any

import flask

import wsgihub
from wsgihub import hookimpl
from wsgihub.adapter import Adapter, AppRoute, Cookie, find_instance
from wsgihub.errors import UnknownEndpointError


def create_app() -> flask.Flask:
    app = flask.Flask("djsite_flask_new")

    @app.get("/users/<int:uid>")
    def user(uid: int) -> str:
        return f"user {uid}"

    @app.get("/post/<int:pk>")
    def post(pk: int) -> str:
        """A Flask view linking into Django (and reporting the thread's script prefix)."""
        from django.urls import get_script_prefix

        before = get_script_prefix()
        url = wsgihub.url_for("legacy:blog:detail", pk=pk)
        return f"{url} {before == get_script_prefix()}"

    @app.get("/whoami")
    def whoami() -> str:
        hub = flask.request.environ["wsgihub.hub"]
        with hub.request_context("legacy", flask.request.environ) as request:
            return request.user.username or "anonymous"

    @app.post("/atomic")
    def atomic() -> str:
        """An outermost Django scope opened inside a transaction must not close it."""
        from django.contrib.auth.models import Group
        from django.db import connection, transaction

        hub = flask.request.environ["wsgihub.hub"]
        with transaction.atomic():
            Group.objects.create(name="flask-before")
            with hub.request_context("legacy") as request:
                assert not request.user.is_authenticated
                Group.objects.count()
            Group.objects.create(name="flask-after")
            alive = connection.in_atomic_block and not connection.needs_rollback
            count = Group.objects.filter(name__startswith="flask-").count()
            transaction.set_rollback(True)
        return f"alive={alive} count={count}"

    return app


class FlaskStandIn(Adapter):
    framework = "flask"

    def routes(self) -> list[AppRoute]:
        app: Any = self.app
        return [
            AppRoute(r.endpoint, r.rule, frozenset(r.methods or ()))
            for r in app.url_map.iter_rules()
        ]

    def build(
        self,
        endpoint: str,
        values: Any,
        *,
        script_name: str,
        scheme: str,
        host: str | None,
        method: str | None = None,
    ) -> str:
        app: Any = self.app
        urls = app.url_map.bind(
            host or "localhost", script_name=script_name or "/", url_scheme=scheme
        )
        try:
            return urls.build(
                endpoint, dict(values), method=method, force_external=host is not None
            )
        except Exception as exc:
            raise UnknownEndpointError(f"cannot build 'new:{endpoint}': {exc}") from exc

    def cookies(self) -> list[Cookie]:
        config: Any = self.app.config  # type: ignore[attr-defined]
        path = config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"]
        return [
            Cookie(config["SESSION_COOKIE_NAME"], path, config["SESSION_COOKIE_DOMAIN"] or None)
        ]

    def request_context(self, environ: Any) -> Any:
        app: Any = self.app
        return app.request_context(environ)


class FlaskStandInPlugin:
    @hookimpl
    def wsgihub_adapter(self, app: Any, layers: Any, framework: str | None) -> Adapter | None:
        if framework not in (None, "flask"):
            return None
        found = find_instance(layers, "flask", "Flask")
        return FlaskStandIn(found, app) if found is not None else None
