"""The Werkzeug adapter passes wsgihub's adapter conformance suite (wsgihub.testing.conformance)."""

from __future__ import annotations

from typing import Any

import wsgihub_werkzeug.plugin
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from wsgihub.plugins import Plugins, make_plugins
from wsgihub.testing.conformance import AdapterConformance, RouteCase


class ItemsApp:
    """A plain Werkzeug application (the Werkzeug tutorial's shape)."""

    def __init__(self) -> None:
        self.url_map = Map(
            [
                Rule("/", endpoint="index"),
                Rule("/items/<int:id>", endpoint="item", methods=["GET"]),
                Rule("/items/", endpoint="add_item", methods=["POST"]),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            return exc(environ, start_response)
        return Response(f"{endpoint} {args} {Request(environ).method}")(environ, start_response)


class TestWerkzeugConformance(AdapterConformance):
    framework = "werkzeug"
    route = RouteCase(
        endpoint="item",
        rule="/items/<int:id>",
        values={"id": 3},
        path="/items/3",
        missing="id",
        bad={"id": "x"},
        methods=frozenset({"GET", "HEAD"}),
    )
    refuses_untrusted_hosts = True  # the hub's HostCheck answers them 400 before the app

    def make_app(self) -> ItemsApp:
        return ItemsApp()

    def make_plugins(self) -> Plugins:
        return make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin])
