"""The Starlette adapter passes wsgihub's adapter conformance suite (wsgihub.testing.conformance).

Twice: a FastAPI app served through its bridge (the suite wraps the WSGI
callable it is given in WSGI middleware, so ``make_app`` hands it the
bridge), and a plain Starlette app mounted as the ASGI app it is.
"""

from __future__ import annotations

from typing import Any

import wsgihub_starlette.plugin
from starlette_apps import make_fastapi, make_starlette
from wsgihub_starlette import bridge_for

from wsgihub import Hub
from wsgihub.plugins import Plugins, make_plugins
from wsgihub.testing.conformance import AdapterConformance, RouteCase


class _Starlette(AdapterConformance):
    framework = "starlette"
    refuses_untrusted_hosts = True  # the bridge answers them 400 (Starlette builds absolute URLs from the Host)

    def make_plugins(self) -> Plugins:
        return make_plugins(autoload=False, plugins=[wsgihub_starlette.plugin])

    def request_environ(self, request: Any) -> Any:
        """A Starlette ``Request`` keeps the WSGI environ the bridge got in its scope."""
        return request.scope["wsgi_environ"]


class TestFastAPIConformance(_Starlette):
    route = RouteCase(
        endpoint="read_item",
        rule="/items/{item_id:int}",
        values={"item_id": 5},
        path="/items/5",
        missing="item_id",
        bad={"item_id": -1},  # Starlette's int convertor builds no negative number
        methods=frozenset({"GET"}),
    )
    cookies = frozenset({"session"})

    def make_app(self) -> Any:
        return bridge_for(make_fastapi())


class TestStarletteConformance(_Starlette):
    route = RouteCase(
        endpoint="page",
        rule="/pages/{slug}",
        values={"slug": "about"},
        path="/pages/about",
        missing="slug",
        bad={"slug": "a/b"},  # the str convertor refuses a '/'
        methods=frozenset({"GET", "HEAD"}),
    )

    def make_app(self) -> Any:
        return make_starlette()

    def test_detects_the_app_behind_middleware(self, hubs: list[Hub]) -> None:
        """ASGI middleware (``.app``) and WSGI middleware around the bridge are both seen through."""
        from starlette.middleware.gzip import GZipMiddleware

        from wsgihub.testing.conformance import _Middleware

        hub = self.make_hub()
        hubs.append(hub)
        app = self.make_app()
        assert hub.mount("/a", GZipMiddleware(app), name="a").framework == "starlette"
        assert hub.mount("/b", _Middleware(bridge_for(make_starlette())), name="b").framework == "starlette"

