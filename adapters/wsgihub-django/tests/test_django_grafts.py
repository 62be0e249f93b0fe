"""A real Flask app grafted over the real Django project (and Django grafted over Flask).

What the graft takes is read from Django's own resolver: ``path()``
converters, ``re_path`` regexes, included prefixes, namespaces and unnamed
patterns; requests show the safe default (a GET 404 falls through, a POST
runs once) and scoping by Django's namespaced names.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import flask
import pytest

from wsgihub import MountWarning
from wsgihub.testing import call

wsgihub_flask = pytest.importorskip("wsgihub_flask")


def make_hub() -> Any:
    """A hub with the real Django and Flask adapters (not the suite's Flask stand-in)."""
    import wsgihub_django.plugin
    import wsgihub_flask.plugin

    from wsgihub import Hub
    from wsgihub.plugins import make_plugins

    return Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_django.plugin, wsgihub_flask.plugin]))


def flask_new() -> flask.Flask:
    app = flask.Flask("new_over_django")

    @app.get("/")
    def index() -> str:
        return "flask index"

    @app.get("/news/<int:pk>/")
    def news(pk: int) -> str:
        if pk == 404:
            flask.abort(404)
        return f"flask news {pk}"

    @app.route("/archive/<int:year>/", methods=["GET", "POST"])
    def archive(year: int) -> str:
        flask.abort(404)

    @app.get("/unnamed/")
    def unnamed() -> str:
        return "flask unnamed"

    @app.get("/blog/tags/<tag>/")
    def tag(tag: str) -> str:
        return f"flask tag {tag}"

    @app.get("/reports/")
    def reports() -> str:
        return "flask reports"

    return app


@pytest.fixture
def site(django_app: Any) -> Any:
    hub = make_hub()
    hub.mount("/", django_app, name="legacy")
    yield hub
    for peg in list(hub.pegs()):
        hub.unmount(peg)


def graft(hub: Any, app: Any, **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MountWarning)
        return hub.graft(app, over=options.pop("over", "legacy"), name=options.pop("name", "new"), **options)


def test_check_names_every_route_taken_from_the_url_conf(site: Any) -> None:
    with pytest.warns(MountWarning, match=r"graft 'new' takes 5 route\(s\) of 'legacy'"):
        site.graft(flask_new(), over="legacy", name="new")
    found = {(f.id, f.message) for f in site.findings()}
    methods = " for GET, HEAD, OPTIONS; other methods stay with legacy"
    assert ("W010", "new:index takes '/' from legacy:home" + methods) in found
    # an included prefix with a namespace: news/ + <int:pk>/ named news:detail
    assert ("W010", "new:news takes '/news/<int:pk>/' from legacy:news:detail" + methods) in found
    # re_path: Flask's <int:year> takes every 4-digit year of the regex
    archive = "new:archive takes '/archive/(?P<year>[0-9]{4})/' from legacy:archive"
    assert ("W010", archive + " for GET, HEAD, OPTIONS, POST; other methods stay with legacy") in found
    # an unnamed pattern is named by its view
    assert ("W010", "new:unnamed takes '/unnamed/' from legacy:djsite_legacy.views.home" + methods) in found
    # <tag> (any segment) takes all of <slug:tag>, inside two includes and two namespaces
    assert ("W010", "new:tag takes '/blog/tags/<slug:tag>/' from legacy:blog:tags:tag" + methods) in found
    (report,) = site.graft_report()
    assert sorted(r.name for r in report.adds) == ["new:reports", "new:static"]
    assert report.summary.startswith(f"new takes 5 of {report.beneath} routes of legacy")


def test_a_get_404_falls_through_to_django_a_post_does_not(site: Any) -> None:
    graft(site, flask_new())
    assert call(site, "/news/3/").text == "flask news 3"
    assert call(site, "/news/404/").text == "post 404"  # Flask's 404: Django's news:detail answers
    assert call(site, "/archive/2024/").text == "archive 2024"
    answer = call(site, "/archive/2024/", "POST", CONTENT_LENGTH="3", **{"wsgi.input": io.BytesIO(b"a=1")})
    assert answer.code == 404 and "archive" not in answer.text  # POST ran in Flask only


def test_fall_through_off(site: Any) -> None:
    graft(site, flask_new(), fall_through=False)
    assert call(site, "/news/404/").code == 404


def test_scoped_by_name_moves_one_route(site: Any) -> None:
    graft(site, flask_new(), only=["news"])
    assert call(site, "/news/3/").text == "flask news 3"
    assert call(site, "/").text == "legacy home"
    assert call(site, "/unnamed/").text == "legacy home"
    (report,) = site.graft_report()
    assert [t.taken.name for t in report.takes] == ["legacy:news:detail"]
    assert report.summary.startswith(f"new takes 1 of {report.beneath} routes of legacy")


def test_django_grafted_over_flask_is_scoped_by_namespaced_names(site: Any) -> None:
    hub = make_hub()
    hub.mount("/", flask_new(), name="front")
    django_app = site.peg("legacy").app
    graft(hub, django_app, over="front", name="django", only=["news:*", "djsite_legacy.views.home"])
    adapter = hub.peg("django").adapter
    assert adapter.match_endpoint("/news/3/", "GET") == "news:detail"
    assert adapter.match_endpoint("/unnamed/", "GET") == "djsite_legacy.views.home"
    assert adapter.match_endpoint("/news/3", "GET") is True  # APPEND_SLASH redirect
    assert adapter.match_endpoint("/nowhere/", "GET") is False
    assert call(hub, "/news/3/").text == "post 3"
    assert call(hub, "/unnamed/").text == "legacy home"
    assert call(hub, "/").text == "flask index"  # Django's home is out of scope
    assert call(hub, "/blog/tags/x/").text == "flask tag x"


def test_static_patterns_are_file_routes_read_from_their_regex() -> None:
    from django.conf.urls.static import static
    from django.test import override_settings
    from django.urls import include, path, re_path
    from djsite_legacy import views
    from wsgihub_django.urlconf import FILE_VIEWS, reachable

    from wsgihub.rules import PARTIAL, overlap, parse_rule

    with override_settings(DEBUG=True):  # static() adds its pattern only while DEBUG is on
        media = static("/media/", document_root="/tmp")  # unnamed: re_path(r"^media/(?P<path>.*)$", serve)
    patterns = [
        *media,
        path("shop/", include(([re_path(r"^(?P<slug>[a-z]+)/", views.home, name="item")], "shop"))),
    ]
    found = {name: (rule, regex) for name, rule, regex in reachable(patterns)}
    assert found["django.views.static.serve"] == ("media/(?P<path>.*)", "/media/(?:.*)")
    assert "django.views.static.serve" in FILE_VIEWS
    # an included prefix, a namespace and a re_path without $: everything after it is free
    assert found["shop:item"] == ("shop/(?P<slug>[a-z]+)/", "/shop/(?:[a-z]+)/.*")
    flask_static = parse_rule("/media/<path:filename>", "werkzeug")
    assert overlap(flask_static, parse_rule("", "django", regex=found["django.views.static.serve"][1])) == PARTIAL
