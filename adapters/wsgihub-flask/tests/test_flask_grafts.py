"""A Flask app with blueprints grafted over another Flask app: what it takes, scoping by blueprint glob."""

from __future__ import annotations

import warnings

import flask
import pytest

import wsgihub
from wsgihub.testing import call


def legacy() -> flask.Flask:
    app = flask.Flask("legacy_side", static_folder=None)

    @app.get("/")
    def home() -> str:
        return "legacy home"

    @app.get("/blog/<slug>")
    def post(slug: str) -> str:
        return f"legacy post {slug}"

    @app.get("/en/about")
    def about() -> str:
        return "legacy about"

    @app.route("/shop/<uuid:item>", methods=["GET", "POST"])
    def item(item: object) -> str:
        return "legacy item"

    return app


def new() -> flask.Flask:
    app = flask.Flask("new_side", static_folder=None)
    blog = flask.Blueprint("blog", "new_side", static_folder="static", static_url_path="/blog-assets")

    @blog.get("/blog/<int:pk>")
    def post(pk: int) -> str:
        return f"new post {pk}"

    @blog.get("/blog/")
    def index() -> str:
        return "new blog index"

    @app.get("/<any(en,fr):lang>/about")
    def about(lang: str) -> str:
        return f"new about {lang}"

    @app.get("/shop/<uuid:item>")
    def item(item: object) -> str:
        return "new item"

    app.register_blueprint(blog)
    return app


@pytest.fixture
def hub() -> wsgihub.Hub:
    hub = wsgihub.Hub()
    hub.mount("/", legacy(), name="legacy")
    return hub


def graft(hub: wsgihub.Hub, **options: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wsgihub.MountWarning)
        hub.graft(new(), over="legacy", name="new", **options)


def test_findings_across_converters(hub: wsgihub.Hub) -> None:
    graft(hub)
    found = {(f.id, f.message) for f in hub.findings()}
    assert ("W011", "new:blog.post takes part of '/blog/<slug>' from legacy:post (its rule '/blog/<int:pk>' overlaps it)") in found
    assert ("W010", "new:about takes '/en/about' from legacy:about") in found
    item = "new:item takes '/shop/<uuid:item>' from legacy:item for GET, HEAD, OPTIONS; other methods stay with legacy"
    assert ("W010", item) in found
    (report,) = hub.graft_report()
    static = [r for r in report.adds if r.static]
    assert [r.name for r in static] == ["new:blog.static"]
    assert [r.name for r in report.leaves] == ["legacy:home"]


def test_scoped_by_blueprint_glob(hub: wsgihub.Hub) -> None:
    graft(hub, only=["blog.*"])
    assert call(hub, "/blog/3").text == "new post 3"
    assert call(hub, "/blog/hello").text == "legacy post hello"
    assert call(hub, "/en/about").text == "legacy about"  # out of scope
    assert call(hub, "/blog").code == 308  # the strict-slash redirect belongs to the graft's blog.index
    (report,) = hub.graft_report()
    assert sorted(r.name for r in report.out_of_scope) == ["new:about", "new:item"]
    assert report.summary == "new takes 0 of 4 routes of legacy (part of 1 more, adds 2, leaves 2 of its own out of scope)"


def test_match_endpoint_names_flask_endpoints(hub: wsgihub.Hub) -> None:
    graft(hub)
    adapter = hub.peg("new").adapter
    assert adapter is not None
    assert adapter.match_endpoint("/blog/3", "GET") == "blog.post"
    assert adapter.match_endpoint("/blog", "GET") is True  # a redirect: taken, cannot be named
    assert adapter.match_endpoint("/blog/3", "POST") is False
    assert adapter.match_endpoint("/nowhere", "GET") is False
