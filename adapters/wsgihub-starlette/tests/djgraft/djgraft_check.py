"""A FastAPI app grafted over a real Django site, under real waitress (run by ../test_django_graft.py).

Route-aware: the graft takes the paths FastAPI's router matches (read from
Starlette's own routes), the overlap report names the Django routes it
takes, a FastAPI 404 to a GET falls through to Django, a POST the graft
takes runs in FastAPI only, and each app builds the other's URLs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["DJANGO_SETTINGS_MODULE"] = "djgraft_settings"

import django

django.setup()

import pytest
import wsgihub_django.plugin
import wsgihub_starlette.plugin
from django.core.wsgi import get_wsgi_application
from djgraft_urls import POSTS
from fastapi import FastAPI, HTTPException, Request
from wsgihub_starlette import HubURL

import wsgihub
from wsgihub import MountWarning
from wsgihub.plugins import make_plugins
from wsgihub.testing import serving

API_POSTS: list[str] = []


def make_api() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id:int}")
    def read_item(item_id: int, hub_url: HubURL) -> dict[str, Any]:
        if item_id == 404:
            raise HTTPException(404)
        return {"fastapi": "item", "item_id": item_id, "blog": hub_url("legacy:blog", pk=item_id), "home": hub_url("legacy:home")}

    @app.post("/items/")
    async def create_item(request: Request) -> dict[str, Any]:
        API_POSTS.append((await request.body()).decode())
        return {"fastapi": "created"}

    return app


@pytest.fixture
def hub() -> wsgihub.Hub:
    plugins = make_plugins(autoload=False, plugins=[wsgihub_django.plugin, wsgihub_starlette.plugin])
    hub = wsgihub.Hub(plugins=plugins, trusted_hosts=["localhost", "127.0.0.1"])
    hub.mount("/", get_wsgi_application(), name="legacy")
    with pytest.warns(MountWarning, match="graft 'api' takes"):
        hub.graft(make_api(), over="legacy", name="api")
    return hub


def test_the_overlap_report_names_what_fastapi_takes(hub: wsgihub.Hub) -> None:
    report = hub.graft_report("api")[0]
    taken = {(t.route.name, t.taken.name): t.methods for t in report.takes}
    assert taken == {("api:read_item", "legacy:item"): frozenset({"GET"}), ("api:create_item", "legacy:items"): frozenset({"POST"})}
    assert "legacy:blog" in {r.name for r in report.leaves}
    assert "api:openapi" in {r.name for r in report.adds}
    assert any("api:read_item takes '/items/<int:pk>' from legacy:item" in m for m in hub.check())


def test_fastapi_over_django_under_waitress(hub: wsgihub.Hub) -> None:
    POSTS.clear()
    API_POSTS.clear()
    with serving(hub) as server:
        taken = json.loads(server.get("/items/3").text)
        fell = server.get("/items/404")  # FastAPI's 404 to a GET falls through to Django's item view
        blog = json.loads(server.get("/blog/3/").text)
        home = server.get("/")
        created = server.request("POST", "/items/", body=b"new", headers={"Content-Type": "text/plain"})
        listed = server.get("/items/")  # GET: FastAPI's POST-only route does not take it
        docs = server.get("/openapi.json")
    assert taken == {"fastapi": "item", "item_id": 3, "blog": "/blog/3/", "home": "/"}
    assert json.loads(fell.text) == {"django": "item", "pk": 404}
    assert blog == {"django": "blog", "pk": 3, "api": "/items/3"}
    assert home.text == "legacy home; api: /items/7"
    assert json.loads(created.text) == {"fastapi": "created"}
    assert API_POSTS == ["new"] and POSTS == ["GET"]  # the POST ran once, in FastAPI; Django saw only the GET
    assert json.loads(listed.text) == {"django": "items", "method": "GET"}
    assert "/items/{item_id}" in json.loads(docs.text)["paths"]


def test_scoped_graft_leaves_the_rest_to_django(hub: wsgihub.Hub) -> None:
    hub.unmount("api")
    with pytest.warns(MountWarning, match="api:create_item takes '/items/' from legacy:items for POST"):
        hub.graft(make_api(), over="legacy", name="api", only=["create_item"])
    with serving(hub) as server:
        assert json.loads(server.get("/items/3").text) == {"django": "item", "pk": 3}
