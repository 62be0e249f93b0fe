"""Pyramid and other apps building each other's URLs, request contexts, request.hub_url."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.threadlocal import get_current_registry, get_current_request
from webtest import TestApp

import wsgihub
from wsgihub.errors import WsgihubError


def test_a_pyramid_view_builds_a_flask_url_with_request_hub_url(
    hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any
) -> None:
    def go(request: Any) -> Any:
        return HTTPFound(request.hub_url("new:user", uid=5))

    def setup(config: Configurator) -> None:
        config.add_route("go", "/go")
        config.add_view(go, route_name="go")

    hub.mount("/", make_pyramid(setup), name="legacy")
    assert hub.mount("/new", make_flask()).framework == "flask"  # wsgihub-flask builds its URLs
    client = TestApp(hub)
    response = client.get("/go")
    assert response.status_int == 302
    assert response.headers["Location"].endswith("/new/users/5")
    assert response.follow().text == "flask user 5"


def test_a_flask_view_builds_a_pyramid_url(
    hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any
) -> None:
    def setup(app: flask.Flask) -> None:
        @app.route("/to-legacy/<int:uid>")
        def to_legacy(uid: int) -> str:
            # Flask's own url_for works too, on Flask's map: the two coexist
            return (
                wsgihub.url_for("legacy:user", uid=uid, ref="flask")
                + " "
                + flask.url_for("user", uid=uid)
            )

    hub.mount("/", make_pyramid(), name="legacy")
    hub.mount("/new", make_flask(setup))
    text = TestApp(hub).get("/new/to-legacy/7").text
    assert text == "/users/7?ref=flask /new/users/7"


def test_pyramid_builds_its_own_urls_through_the_hub_in_its_request(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    def me(request: Any) -> Response:
        return Response(
            " ".join(
                [
                    wsgihub.url_for("api:user", uid=1),
                    request.hub_url("api:user", uid=2),
                    request.route_path("user", uid=3),
                    request.route_url("user", uid=4),
                ]
            )
        )

    def setup(config: Configurator) -> None:
        config.add_route("me", "/me")
        config.add_view(me, route_name="me")

    hub.mount("/api", make_pyramid(setup))
    text = TestApp(hub).get("/api/me", extra_environ={"HTTP_HOST": "example.com"}).text
    assert text == "/api/users/1 /api/users/2 /api/users/3 http://example.com/api/users/4"


def test_inside_one_pyramid_app_another_ones_urls_are_its_own(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    """The thread-local registry belongs to the app being served; the adapter ignores it."""

    def other(request: Any) -> Response:
        assert get_current_registry() is request.registry
        return Response(hub.url_for("b:user", uid=1) + " " + hub.url_for("b:only_b"))

    def setup_a(config: Configurator) -> None:
        config.add_route("other", "/other")
        config.add_view(other, route_name="other")

    def setup_b(config: Configurator) -> None:
        config.add_route("only_b", "/only-b")

    hub.mount("/a", make_pyramid(setup_a))
    hub.mount("/b", make_pyramid(setup_b))
    assert TestApp(hub).get("/a/other").text == "/b/users/1 /b/only-b"


def test_request_context_enters_as_a_prepared_pyramid_request(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    app = make_pyramid(session=True)
    hub.mount("/api", app)
    before = get_current_request()
    with hub.request_context("api", path="/users/3") as request:
        assert get_current_request() is request
        assert get_current_registry() is app.registry
        assert request.registry is app.registry
        assert request.script_name == "/api"
        assert request.matchdict == {"uid": "3"}
        assert request.matched_route.name == "user"
        assert request.route_path("user", uid=8) == "/api/users/8"
        assert request.current_route_path() == "/api/users/3"
        assert request.hub_url("api:home") == "/api/"
        assert wsgihub.url_for("api:home") == "/api/"
        request.session["seen"] = True
        assert request.session["seen"] is True
        closed: list[bool] = []
        request.add_finished_callback(lambda r: closed.append(True))
    assert closed == [True]
    assert get_current_request() is before


def test_request_context_from_inside_another_apps_request(
    hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any
) -> None:
    def setup(app: flask.Flask) -> None:
        @app.route("/peek")
        def peek() -> str:
            with hub.request_context("api", path="/users/4") as request:
                return f"{request.matchdict['uid']} {request.route_url('home')}"

    hub.mount("/api", make_pyramid())
    hub.mount("/new", make_flask(setup))
    text = TestApp(hub).get("/new/peek", extra_environ={"HTTP_HOST": "example.com"}).text
    assert text == "4 http://example.com/api/"


def test_hub_url_outside_requests_uses_the_hub_the_app_is_mounted_on(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    from pyramid.scripting import prepare

    app = make_pyramid()
    with prepare(registry=app.registry) as env, pytest.raises(WsgihubError, match="not mounted"):
        env["request"].hub_url("api:user", uid=1)
    peg = hub.mount("/api", app)
    with prepare(registry=app.registry) as env:
        assert env["request"].hub_url("api:user", uid=1) == "/api/users/1"
        assert env["request"].hub is hub
    hub.unmount(peg)
    assert "wsgihub.hub" not in app.registry


def test_the_registry_keeps_the_hub_while_the_app_is_mounted_twice(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    app = make_pyramid()
    first = hub.mount("/one", app)
    hub.mount("/two", app)
    hub.unmount(first)
    assert app.registry["wsgihub.hub"] is hub
    assert hub.url_for("two:user", uid=1) == "/two/users/1"


def test_templates_get_hub_url(hub: wsgihub.Hub, make_pyramid: Any, make_flask: Any) -> None:
    class HubUrlRenderer:
        """A real renderer factory: renders with the system values it is given."""

        def __init__(self, info: Any) -> None:
            self.info = info

        def __call__(self, value: dict[str, Any], system: dict[str, Any]) -> str:
            return system["hub_url"]("new:user", **value)

    def setup(config: Configurator) -> None:
        config.add_renderer(".hub", HubUrlRenderer)
        config.add_route("page", "/page")
        config.add_view(lambda request: {"uid": 11}, route_name="page", renderer="page.hub")

    hub.mount("/", make_pyramid(setup), name="legacy")
    hub.mount("/new", make_flask())
    assert TestApp(hub).get("/page").text == "/new/users/11"
