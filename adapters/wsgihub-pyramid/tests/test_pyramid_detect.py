"""Detection: a Pyramid Router found among a mount's layers, or forced."""

from __future__ import annotations

import functools
import subprocess
import sys
from typing import Any

import pytest
from webtest import TestApp
from wsgihub_pyramid.adapter import PyramidAdapter

import wsgihub
from wsgihub.errors import MountError
from wsgihub.plugins import make_plugins


class Middleware:
    """Plain middleware that keeps the app as ``.app``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.app(environ, start_response)


class HiddenRouter:
    """Middleware that hides the router under a private name but keeps its registry."""

    def __init__(self, router: Any) -> None:
        self._router = router
        self.registry = router.registry

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._router(environ, start_response)


def test_the_plugin_is_found_by_entry_point_and_named_pyramid() -> None:
    names = [info.name for info in make_plugins().info()]
    assert "pyramid" in names


def test_loading_the_plugin_does_not_import_pyramid() -> None:
    code = (
        "import sys, wsgihub; from wsgihub.plugins import make_plugins; "
        "p = make_plugins(); assert 'pyramid' in [i.name for i in p.info()]; "
        "hub = wsgihub.Hub(plugins=p); hub.mount('/x', lambda e, s: []); "
        "print('pyramid' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_router_is_detected(hub: wsgihub.Hub, make_pyramid: Any) -> None:
    app = make_pyramid()
    peg = hub.mount("/api", app)
    assert isinstance(peg.adapter, PyramidAdapter)
    assert peg.framework == "pyramid"
    assert peg.adapter.app is app
    assert peg.adapter.registry is app.registry


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda app: Middleware(app), id="dot-app"),
        pytest.param(lambda app: Middleware(Middleware(app)), id="two-layers"),
        pytest.param(lambda app: functools.wraps(app)(lambda e, s: app(e, s)), id="__wrapped__"),
        pytest.param(lambda app: functools.partial(app), id="partial"),
        pytest.param(lambda app: Middleware(app).__call__, id="bound-method"),
    ],
)
def test_a_router_behind_middleware_is_detected(
    hub: wsgihub.Hub, make_pyramid: Any, wrap: Any
) -> None:
    app = make_pyramid()
    wrapped = wrap(app)
    peg = hub.mount("/api", wrapped)
    assert isinstance(peg.adapter, PyramidAdapter)
    assert peg.adapter.app is app
    assert peg.adapter.wsgi is wrapped
    assert hub.url_for("api:user", uid=1) == "/api/users/1"
    assert TestApp(hub).get("/api/users/1").text == "pyramid user 1"


def test_a_plain_wsgi_app_is_not_pyramid(hub: wsgihub.Hub) -> None:
    peg = hub.mount("/plain", lambda environ, start_response: [])
    assert not isinstance(peg.adapter, PyramidAdapter)


def test_forcing_pyramid_finds_a_registry_carried_by_a_wrapper(
    hub: wsgihub.Hub, make_pyramid: Any
) -> None:
    app = make_pyramid()
    hidden = HiddenRouter(app)
    assert not isinstance(hub.mount("/auto", hidden).adapter, PyramidAdapter)
    peg = hub.mount("/forced", hidden, name="forced", framework="pyramid")
    assert isinstance(peg.adapter, PyramidAdapter)
    assert peg.adapter.registry is app.registry
    assert hub.url_for("forced:user", uid=3) == "/forced/users/3"
    assert TestApp(hub).get("/forced/users/3").text == "pyramid user 3"


def test_forcing_pyramid_on_a_non_pyramid_app_refuses_the_mount(hub: wsgihub.Hub) -> None:
    with pytest.raises(MountError, match="pyramid"):
        hub.mount("/x", lambda environ, start_response: [], framework="pyramid")
    assert "x" not in hub


def test_forcing_another_framework_is_respected(make_pyramid: Any) -> None:
    from wsgihub_pyramid.plugin import wsgihub_adapter

    app = make_pyramid()
    layers = wsgihub.adapter.layers(app)
    assert wsgihub_adapter(app=app, layers=layers, framework="django") is None
    assert isinstance(wsgihub_adapter(app=app, layers=layers, framework="pyramid"), PyramidAdapter)
    assert isinstance(wsgihub_adapter(app=app, layers=layers, framework=None), PyramidAdapter)


def test_blocking_the_plugin_leaves_pyramid_apps_unadapted(make_pyramid: Any) -> None:
    hub = wsgihub.Hub(plugins=make_plugins(block=["pyramid"]))
    peg = hub.mount("/api", make_pyramid())
    assert not isinstance(peg.adapter, PyramidAdapter)
