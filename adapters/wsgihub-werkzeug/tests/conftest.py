"""Fixtures for the Werkzeug adapter's tests: real Werkzeug apps, real hubs.

Hubs are built with the Werkzeug plugin registered explicitly (no entry
point autoload), so another installed adapter cannot change what these
tests see; one test checks the entry point separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import wsgihub_werkzeug.plugin
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

import wsgihub
from wsgihub.plugins import make_plugins
from wsgihub.testing import serving
from wsgihub.testing.fixtures import module_folder  # noqa: F401  (the kit's fixture: test_*_deploy.py)


class ShopApp:
    """A plain Werkzeug application in the style of the Werkzeug tutorial.

    Views answer ``endpoint args|hub-urls`` so tests can see what ran and
    what the hub built from inside the request.  ``calls`` counts requests.
    """

    def __init__(self, name: str = "shop") -> None:
        self.name = name
        self.calls = 0
        self.url_map = Map(
            [
                Rule("/", endpoint="index"),
                Rule("/items/", endpoint="items", methods=["GET"]),
                Rule("/items/", endpoint="add_item", methods=["POST"]),
                Rule("/items/<int:id>", endpoint="item", methods=["GET"]),
                Rule("/edit/<int:id>", endpoint="edit", methods=["GET"]),
                Rule("/edit/<int:id>", endpoint="edit", methods=["POST"]),
                Rule("/files/<path:name>", endpoint="files"),
                Rule("/about", endpoint=about_view),
            ]
        )
        #: Called inside the request for the ``index`` view; its result is the body.
        self.on_index: Callable[[Request], str] = lambda request: ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as exc:
            return exc(environ, start_response)
        if callable(endpoint):
            endpoint = endpoint.__name__
        body = f"{self.name} {endpoint} {args}|"
        if endpoint == "index":
            body += self.on_index(request)
        elif endpoint == "item":
            body += adapter.build("item", {"id": args["id"]})
        return Response(body)(environ, start_response)


def about_view() -> None:
    """A view function used as an endpoint (Werkzeug allows any object)."""


@pytest.fixture
def make_hub() -> Callable[..., wsgihub.Hub]:
    """``make_hub(**hub_options)``: a hub with only the Werkzeug plugin."""

    def make(**options: Any) -> wsgihub.Hub:
        plugins = make_plugins(autoload=False, plugins=[wsgihub_werkzeug.plugin])
        return wsgihub.Hub(plugins=plugins, **options)

    return make


@pytest.fixture
def shop() -> ShopApp:
    return ShopApp()


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """``serve(app) -> "http://127.0.0.1:PORT"``: wsgihub's waitress server on loopback (the testing kit's)."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serving(app)).url


@pytest.fixture
def make_shop() -> type[ShopApp]:
    """The :class:`ShopApp` class, for tests that need several shops."""
    return ShopApp
