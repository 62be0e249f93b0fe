"""What a graft takes across Pyramid patterns: ``{x}``, ``{x:regex}``, ``*rest``, static views, methods.

A real Flask app is grafted over a real Pyramid app and the other way
round; findings name both sides, both apps' static files keep working
(a GET 404 falls through), and a Pyramid graft is scoped by route name.
"""

from __future__ import annotations

import warnings
from typing import Any

import flask
import pytest
from pyramid.config import Configurator
from pyramid.response import Response

import wsgihub
from wsgihub.testing import Result
from wsgihub.testing import call as plain_call


def call(hub: wsgihub.Hub, path: str, method: str = "GET") -> Result:
    """A request on the hub fixture's trusted host."""
    return plain_call(hub, path, method, HTTP_HOST="example.com")


def flask_graft() -> flask.Flask:
    """Routes meeting each kind of Pyramid pattern; a static folder of its own at /static."""
    app = flask.Flask("flask_graft", static_folder=None)

    @app.get("/users/<int:uid>")
    def user(uid: int) -> str:
        return f"flask user {uid}"

    @app.get("/files/report.txt")
    def report() -> str:
        return "flask report"

    @app.get("/static/<path:filename>")
    def static(filename: str) -> str:
        if filename != "flask.css":
            flask.abort(404)
        return "flask css"

    @app.post("/orders/<int:n>")
    def order(n: int) -> str:
        return "flask order"

    return app


def pyramid_beneath(config: Configurator) -> None:
    config.add_route("order", "/orders/{n:\\d+}")
    config.add_view(lambda request: Response("pyramid order"), route_name="order")


def graft(hub: wsgihub.Hub, app: Any, over: str, name: str, **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wsgihub.MountWarning)
        return hub.graft(app, over=over, name=name, **options)


def test_flask_over_pyramid_findings(hub: wsgihub.Hub, make_pyramid: Any) -> None:
    hub.mount("/", make_pyramid(pyramid_beneath), name="api")
    graft(hub, flask_graft(), over="api", name="new")
    found = {(f.id, f.message) for f in hub.findings() if f.id in ("W010", "W011")}
    assert found == {
        # {uid} with request_method=GET: Flask's <int:uid> takes part of it (both take GET and HEAD)
        ("W011", "new:user takes part of '/users/{uid}' from api:user (its rule '/users/<int:uid>' overlaps it)"),
        # *path: one literal path of the remainder
        ("W011", "new:report takes part of '/files/*path' from api:files (its rule '/files/report.txt' overlaps it) for GET, HEAD, OPTIONS; other methods stay with api"),
        # the static view's /static/*subpath: Flask's /static/<path:filename> takes all but /static/ itself
        ("W011", "new:static takes part of '/static/*subpath' from api:__static/ (its rule '/static/<path:filename>' overlaps it) for GET, HEAD, OPTIONS; other methods stay with api; files it does not have fall through to api"),
        # {n:\d+} is exactly <int:n>; Flask takes it for POST
        ("W010", "new:order takes '/orders/{n:\\\\d+}' from api:order for OPTIONS, POST; other methods stay with api"),
    }
    static = [r for r in hub.peg("api").adapter.reachable_routes() if r.static]
    assert [r.endpoint for r in static] == ["__static/"]


def test_both_apps_static_files_keep_working(hub: wsgihub.Hub, make_pyramid: Any) -> None:
    hub.mount("/", make_pyramid(pyramid_beneath), name="api")
    graft(hub, flask_graft(), over="api", name="new")
    assert call(hub, "/static/flask.css").text == "flask css"
    pyramid_file = call(hub, "/static/pserve.py")  # Flask's 404 falls through to Pyramid's static view
    assert pyramid_file.code == 200 and b"def main" in pyramid_file.body
    assert call(hub, "/orders/3", "POST").text == "flask order"
    assert call(hub, "/orders/3").text == "pyramid order"


def test_pyramid_graft_scoped_by_route_name(hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any) -> None:
    hub.mount("/", make_flask(), name="front")
    graft(hub, make_pyramid(), over="front", name="api", only=["home", "files"])
    adapter = hub.peg("api").adapter
    assert adapter.match_endpoint("/users/5", "GET") == "user"
    assert adapter.match_endpoint("/users/5", "POST") is False
    assert call(hub, "/").text == "pyramid home"
    assert call(hub, "/files/a/b").text == "a/b"
    assert call(hub, "/users/5").text == "flask user 5"  # Pyramid's user route is out of scope
    (report,) = hub.graft_report()
    assert [t.taken.name for t in report.takes] == []
    assert [t.taken.name for t in report.partial] == []
    assert sorted(r.name for r in report.out_of_scope) == ["api:__static/", "api:user", "api:user_edit"]


@pytest.mark.parametrize("only", [["__static/"], ["__*"]])
def test_a_static_view_is_scoped_by_its_route_name(hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any, only: list[str]) -> None:
    hub.mount("/", make_flask(), name="front")
    graft(hub, make_pyramid(), over="front", name="api", only=only)
    assert call(hub, "/static/pserve.py").code == 200
    assert call(hub, "/").code == 404  # home stays with Flask, which has no /
