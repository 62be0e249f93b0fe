"""A grafted Flask app takes the hub's exact match instead of matching again, and sees what it would see alone.

The hub answers "does the graft take this path" with Werkzeug's own match
when only one rule can take the path's first segment
(:mod:`wsgihub_flask.handoff`); the view must then see the very
``request.url_rule`` and ``request.view_args`` Flask would have matched
itself, fresh for every request, and anything that changes what Flask
matches (a middleware rewriting the path, subdomain matching, a rule added
since) must make Flask match itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import flask
import pytest
from werkzeug.routing import Rule

import wsgihub
from wsgihub.testing import call

PATHS = ["/reports/3", "/reports/03", "/reports/3", "/items/x/y", "/reports/x", "/reports/3/", "//reports/4", "/gone/1"]


def reports(seen: list[Any]) -> flask.Flask:
    app = flask.Flask("handoff_reports", static_folder=None)

    @app.url_value_preprocessor
    def take_pk(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values is not None and "pk" in values:
            flask.g.pk = values.pop("pk")  # a view's values may be changed: each request gets its own

    @app.get("/reports/<int:pk>")
    def report() -> str:
        seen.append((flask.request.url_rule, dict(flask.request.view_args or {}), flask.g.pk))
        return f"report {flask.g.pk!r}"

    @app.get("/items/<path:rest>")
    def items(rest: str) -> str:
        seen.append((flask.request.url_rule, dict(flask.request.view_args or {}), None))
        return f"items {rest}"

    return app


def beneath(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"beneath"]


def graft(hub: wsgihub.Hub, app: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wsgihub.MountWarning)
        hub.graft(app, over="legacy", name="new")


def test_the_view_sees_what_flask_alone_matches(make_hub: Callable[..., wsgihub.Hub]) -> None:
    alone_seen: list[Any] = []
    alone = make_hub()
    alone.mount("/", reports(alone_seen), name="new")
    seen: list[Any] = []
    app = reports(seen)
    hub = make_hub()
    hub.mount("/", beneath, name="legacy")
    graft(hub, app)
    for path in PATHS:
        own, got = call(alone, path), call(hub, path)
        if own.code == 404:
            assert got.text == "beneath", path
        else:
            assert (got.status, got.header("Location"), got.text) == (own.status, own.header("Location"), own.text)
    assert [(rule.rule, values, pk) for rule, values, pk in seen] == [
        (rule.rule, values, pk) for rule, values, pk in alone_seen
    ]
    assert all(rule.map is app.url_map for rule, _, _ in seen)
    assert seen[0][1] == {} and seen[0][2] == 3  # the preprocessor popped pk from this request's own dict


@pytest.mark.parametrize("kind", ["rewriting middleware", "subdomain matching", "rule added since"])
def test_what_changes_flasks_match_makes_flask_match_itself(make_hub: Callable[..., wsgihub.Hub], kind: str) -> None:
    seen: list[Any] = []
    app = reports(seen)
    hub = make_hub()
    hub.mount("/", beneath, name="legacy")
    if kind == "subdomain matching":
        app.subdomain_matching = True
        app.config["SERVER_NAME"] = "example.com"
    graft(hub, app)
    host = {"HTTP_HOST": "example.com"} if kind == "subdomain matching" else {}
    assert call(hub, "/reports/3", **host).text == "report 3"  # the router's shortcut is built
    if kind == "rewriting middleware":
        inner = app.wsgi_app

        def rewrite(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            environ["PATH_INFO"] = environ["PATH_INFO"].replace("/3", "/5")
            return inner(environ, start_response)

        app.wsgi_app = rewrite  # type: ignore[method-assign]
        assert call(hub, "/reports/3").text == "report 5"
    elif kind == "subdomain matching":
        assert call(hub, "/reports/3", HTTP_HOST="example.com").text == "report 3"
        assert call(hub, "/reports/3", HTTP_HOST="api.example.com").text == "beneath"  # Flask's 404 falls through
    else:
        app.url_map.add(Rule("/reports/<int:pk>/x", endpoint="more"))  # add_url_rule refuses after a request
        app.view_functions["more"] = lambda: "more"
        assert call(hub, "/reports/4").text == "report 4"
        assert call(hub, "/reports/4/x").text == "more"


def test_unmounting_the_graft_leaves_the_app_as_it_was(make_hub: Callable[..., wsgihub.Hub]) -> None:
    app = reports([])
    hub = make_hub()
    hub.mount("/", beneath, name="legacy")
    graft(hub, app)
    assert "request_context" in vars(app)
    hub.unmount("new")
    assert "request_context" not in vars(app)
    with app.test_request_context("/reports/9"):
        assert flask.request.view_args == {"pk": 9}
