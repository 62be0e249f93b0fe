"""Cross-app URLs between FastAPI and Flask, and FastAPI and Pyramid, both ways, under real waitress.

Each app builds the other's URLs with its own native helper: Flask's
``hub_url`` (wsgihub_flask), Pyramid's ``request.hub_url``
(wsgihub_pyramid), FastAPI's ``HubURL`` dependency and
``request.state.hub_url`` -- and answers redirects into the other app.
(FastAPI <-> Django: tests/djgraft, in a process of its own.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import wsgihub_starlette.plugin
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from wsgihub_starlette import HubURL

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import serving

flask = pytest.importorskip("flask")
wsgihub_flask = pytest.importorskip("wsgihub_flask")
pyramid_config = pytest.importorskip("pyramid.config")
wsgihub_pyramid = pytest.importorskip("wsgihub_pyramid")


def make_api() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id:int}")
    def read_item(item_id: int, hub_url: HubURL, request: Request) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "flask_user": hub_url("new:user", uid=item_id),
            "pyramid_user": request.state.hub_url("pyr:user", uid=item_id),
            "flask_absolute": hub_url("new:user", uid=item_id, _external=True),
            "anywhere": wsgihub.url_for("pyr:home"),
        }

    @app.get("/to-flask")
    def to_flask(hub_url: HubURL) -> RedirectResponse:
        return RedirectResponse(hub_url("new:user", uid=1))

    return app


def make_flask() -> Any:
    from wsgihub_flask import hub_url

    app = flask.Flask("cross_flask")

    @app.get("/users/<int:uid>")
    def user(uid: int) -> dict[str, Any]:
        return {"uid": uid, "item": hub_url("api:read_item", item_id=uid), "jinja": flask.render_template_string("{{ hub_url('api:read_item', item_id=7) }}")}

    @app.get("/to-api")
    def to_api() -> Any:
        return flask.redirect(hub_url("api:read_item", item_id=2))

    return app


def make_pyramid() -> Any:
    config = pyramid_config.Configurator()
    config.include("wsgihub_pyramid")
    config.add_route("home", "/")
    config.add_route("user", "/users/{uid}")
    config.add_view(lambda request: {"home": True}, route_name="home", renderer="json")
    config.add_view(
        lambda request: {"item": request.hub_url("api:read_item", item_id=int(request.matchdict["uid"]))},
        route_name="user",
        renderer="json",
    )
    return config.make_wsgi_app()


@pytest.fixture
def hub() -> wsgihub.Hub:
    import wsgihub_flask.plugin
    import wsgihub_pyramid.plugin
    import wsgihub_werkzeug.plugin

    plugins = make_plugins(
        autoload=False,
        plugins=[wsgihub_werkzeug.plugin, wsgihub_flask.plugin, wsgihub_pyramid.plugin, wsgihub_starlette.plugin],
    )
    hub = wsgihub.Hub(plugins=plugins, trusted_hosts=["localhost", "127.0.0.1"])
    hub.mount("/api", make_api())
    hub.mount("/new", make_flask())
    hub.mount("/pyr", make_pyramid())
    return hub


def test_urls_across_apps_outside_requests(hub: wsgihub.Hub) -> None:
    assert hub.url_for("api:read_item", item_id=3) == "/api/items/3"
    assert hub.partyline.ask_around("url", "api:read_item") == []  # a value is missing: nobody answers
    assert hub.partyline.ask_around("url", {"endpoint": "api:read_item", "values": {"item_id": 3}}) == ["/api/items/3"]


def test_fastapi_flask_and_pyramid_link_each_other(hub: wsgihub.Hub) -> None:
    with serving(hub) as server:
        api = json.loads(server.get("/api/items/3").text)
        flask_page = json.loads(server.get("/new/users/5").text)
        pyramid_page = json.loads(server.get("/pyr/users/6").text)
        to_flask = server.get("/api/to-flask")
        to_api = server.get("/new/to-api")
        origin = f"http://127.0.0.1:{server.port}"
    assert api == {
        "item_id": 3,
        "flask_user": "/new/users/3",
        "pyramid_user": "/pyr/users/3",
        "flask_absolute": f"{origin}/new/users/3",
        "anywhere": "/pyr/",
    }
    assert flask_page == {"uid": 5, "item": "/api/items/5", "jinja": "/api/items/7"}
    assert pyramid_page == {"item": "/api/items/6"}
    assert to_flask.code == 307 and to_flask.header("Location") == "/new/users/1"
    assert to_api.code == 302 and to_api.header("Location") in ("/api/items/2", f"{origin}/api/items/2")
