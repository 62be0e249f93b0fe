"""The PasteDeploy app factory, ``use = egg:wsgihub-pyramid#app``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from webtest import TestApp
from wsgihub_pyramid.adapter import PyramidAdapter
from wsgihub_pyramid.deploy import app_factory

import wsgihub
from wsgihub.errors import DeployError
from wsgihub.testing import write_site

MAIN = """
from pyramid.config import Configurator
from pyramid.response import Response

def main(global_config, **settings):
    config = Configurator(settings=settings)
    config.include("wsgihub_pyramid")
    config.add_route("hello", "/hello/{name}")
    def hello(request):
        greeting = request.registry.settings["greeting"]
        return Response(f"{greeting} {request.matchdict['name']} from {global_config.get('here', '?')}"
                        f" {request.hub_url('api:hello', name='x') if request.hub else 'no hub'}")
    config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()

def ready():
    return main({}, greeting="ready")

def broken_main(global_config, **settings):
    raise KeyError("greeting")

ROUTER = None
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    name = f"pyr_project_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(MAIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / name
    sys.modules.pop(name, None)


def test_a_site_ini_mounts_a_pyramid_main(project: Path) -> None:
    site = project.parent / "site.ini"
    site.write_text(
        textwrap.dedent(
            f"""
            [composite:main]
            use = egg:wsgihub#hub
            /api = api

            [app:api]
            use = egg:wsgihub-pyramid#app
            app = {project.name}:main
            greeting = hello
            """
        )
    )
    hub = wsgihub.load(f"config:{site}")
    assert isinstance(hub.peg("api").adapter, PyramidAdapter)
    assert hub.url_for("api:hello", name="bob") == "/api/hello/bob"
    text = TestApp(hub).get("/api/hello/bob").text
    assert text == f"hello bob from {project.parent} /api/hello/x"


def test_a_module_means_its_main(project: Path) -> None:
    app = app_factory({"here": "/srv"}, app=project.name, greeting="hi")
    assert TestApp(app).get("/hello/ann").text == "hi ann from /srv no hub"


def test_a_ready_router_is_used_as_is_and_takes_no_settings(project: Path) -> None:
    module = __import__(project.name)
    module.ROUTER = module.ready()
    assert app_factory({}, app=f"{project.name}:ROUTER") is module.ROUTER
    with pytest.raises(DeployError, match="ready Router.*greeting"):
        app_factory({}, app=f"{project.name}:ROUTER", greeting="x")


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (None, "^app: required: the Pyramid main"),
        ("no_such_module_xyz:main", "^app: 'no_such_module_xyz:main': cannot import 'no_such_module_xyz'"),
        ("wsgihub_pyramid.routing", "^app: 'wsgihub_pyramid.routing' is a module without a 'main'"),
        ("wsgihub_pyramid.adapter:HUB_KEY", "^app: 'wsgihub_pyramid.adapter:HUB_KEY' is not callable"),
    ],
)
def test_bad_app_keys_are_one_line_errors(app: str | None, message: str) -> None:
    with pytest.raises(DeployError, match=message) as info:
        app_factory({}, app=app)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "[app:api] app: required: the Pyramid main"),
        ("app = {name}:broken_main\n", "[app:api] app: '{name}:broken_main' raised KeyError: 'greeting'"),
        ("app = {name}:nope\n", "[app:api] app: '{name}:nope': module '{name}' has no attribute 'nope'"),
        ("app = {name}:ROUTER\n", "[app:api] app: '{name}:ROUTER' is not callable"),
    ],
    ids=["no-app", "main-raises", "no-attribute", "not-callable"],
)
def test_site_file_errors_name_file_section_and_key(project: Path, body: str, expected: str) -> None:
    """Every adapter's factory reports ``FILE: [app:NAME] KEY: message`` (one line)."""
    site = write_site(project.parent, "egg:wsgihub-pyramid#app", body.format(name=project.name), prefix="/api", name="api")
    with pytest.raises(DeployError) as info:
        wsgihub.load(f"config:{site}")
    message = str(info.value)
    assert message.startswith(f"{site}: {expected.format(name=project.name)}"), message
    assert "\n" not in message
