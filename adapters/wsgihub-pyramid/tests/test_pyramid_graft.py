"""Grafts: a Pyramid app in another mount's URL space, route-aware."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from webtest import TestApp

import wsgihub


class Counted:
    """Counts calls per app; wraps with ``__wrapped__`` so detection still sees the app."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, name: str, app: Any) -> Any:
        @functools.wraps(app)
        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            self.calls[name] += 1
            return app(environ, start_response)

        counted.__wrapped__ = app  # type: ignore[attr-defined]
        return counted


def plain_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [
        f"base {environ['REQUEST_METHOD']} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    ]


@pytest.mark.parametrize(
    ("method", "path", "who", "text"),
    [
        ("GET", "/site/users/5", "pyramid", "pyramid user 5"),
        ("HEAD", "/site/users/5", "pyramid", ""),
        ("POST", "/site/users/5", "base", "base POST /site|/users/5"),
        ("POST", "/site/users/5/edit", "pyramid", "pyramid edit"),
        ("GET", "/site/users/5/edit", "base", "base GET /site|/users/5/edit"),
        ("GET", "/site/elsewhere", "base", "base GET /site|/elsewhere"),
        ("GET", "/site/static/pserve.py", "pyramid", None),
    ],
)
def test_graft_over_a_plain_app(
    hub: wsgihub.Hub, make_pyramid: Any, method: str, path: str, who: str, text: str | None
) -> None:
    counted = Counted()
    hub.mount("/site", counted("base", plain_app), name="site")
    peg = hub.graft(counted("pyramid", make_pyramid()), over="site", name="pyr")
    assert peg.framework == "pyramid"
    response = TestApp(hub).request(path, method=method)
    assert response.status_int == 200
    if text is not None:
        assert response.text == text
    assert counted.calls == Counter({who: 1})


def test_graft_over_flask(hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any) -> None:
    counted = Counted()
    hub.mount("/", counted("flask", make_flask()), name="new")
    hub.graft(counted("pyramid", make_pyramid()), over="new", name="pyr")
    client = TestApp(hub)

    assert client.get("/users/5").text == "pyramid user 5"  # both have it: the graft wins
    assert counted.calls == Counter({"pyramid": 1})
    counted.calls.clear()
    assert client.get("/reports").text == "flask reports"
    assert counted.calls == Counter({"flask": 1})
    counted.calls.clear()
    assert client.get("/nowhere", expect_errors=True).status_int == 404
    assert counted.calls == Counter({"flask": 1})
    # both apps' URLs build under the shared prefix
    assert hub.url_for("pyr:user_edit", uid=1) == "/users/1/edit"
    assert hub.url_for("new:reports") == "/reports"
    grafted = {r.endpoint: r.grafted for r in hub.routes("pyr")}
    assert grafted["user"] is True


def test_a_route_with_predicates_a_path_cannot_judge_counts_as_a_match(hub: wsgihub.Hub) -> None:
    config = Configurator()
    config.add_route("api", "/api", header="X-Api")
    config.add_view(lambda request: Response("pyramid api"), route_name="api")
    hub.mount("/", plain_app, name="site")
    peg = hub.graft(config.make_wsgi_app(), over="site")
    assert peg.adapter.match("/api", "GET") is True  # type: ignore[union-attr]
    assert TestApp(hub).get("/api", headers={"X-Api": "1"}).text == "pyramid api"


def test_traversal_apps_cannot_tell_and_cascade(hub: wsgihub.Hub) -> None:
    class Root:
        def __getitem__(self, name: str) -> Any:
            if name == "doc":
                return Doc()
            raise KeyError(name)

    class Doc:
        pass

    config = Configurator(root_factory=lambda request: Root())
    config.add_view(lambda context, request: Response("pyramid doc"), context=Doc)
    counted = Counted()
    hub.mount("/", counted("base", plain_app), name="site")
    peg = hub.graft(counted("pyramid", config.make_wsgi_app()), over="site")
    assert peg.adapter.match("/doc", "GET") is None  # type: ignore[union-attr]
    client = TestApp(hub)
    assert client.get("/doc").text == "pyramid doc"
    assert counted.calls == Counter({"pyramid": 1})
    counted.calls.clear()
    assert client.get("/other").text == "base GET |/other"
    assert counted.calls == Counter({"pyramid": 1, "base": 1})  # the cascade tried Pyramid first


def test_routes_plus_traversal_views_cannot_tell_off_route(
    make_pyramid: Any, hub: wsgihub.Hub
) -> None:
    def setup(config: Configurator) -> None:
        config.add_view(lambda request: Response("traversal"), name="hello")

    peg = hub.mount("/x", make_pyramid(setup))
    assert peg.adapter.match("/users/1", "GET") is True  # type: ignore[union-attr]
    assert peg.adapter.match("/hello", "GET") is None  # type: ignore[union-attr]


def test_without_introspection_view_methods_are_unknown(hub: wsgihub.Hub) -> None:
    config = Configurator(introspection=False)
    config.add_route("edit", "/edit")
    config.add_view(lambda request: Response("edit"), route_name="edit", request_method="POST")
    peg = hub.mount("/x", config.make_wsgi_app())
    assert peg.adapter.match("/edit", "GET") is True  # type: ignore[union-attr]
    assert peg.adapter.match("/nope", "GET") is None  # type: ignore[union-attr]
    assert [(r.endpoint, r.methods) for r in hub.routes("x")] == [("edit", None)]
