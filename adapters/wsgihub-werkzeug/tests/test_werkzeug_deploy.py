"""``egg:wsgihub-werkzeug#app`` in a real site file: ``app`` follows the one factory rule; one error format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from werkzeug.test import Client

import wsgihub
from wsgihub.errors import DeployError
from wsgihub.testing import write_site

MODULE = "werkzeug_deploy_site"

SOURCE = '''
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response


class Site:
    def __init__(self, greeting="hi"):
        self.greeting = greeting
        self.url_map = Map([Rule("/hello", endpoint="hello")])

    def __call__(self, environ, start_response):
        return Response(self.greeting)(environ, start_response)


application = Site("ready")

def create_app():
    return Site("made")

def create(greeting):
    return Site(greeting)

def explode(greeting):
    raise ValueError(f"bad greeting {greeting!r}")
'''


@pytest.fixture
def site(module_folder: Callable[[str, str], Path]) -> Path:
    """The folder holding MODULE, the current directory (the kit's module_folder, imported by conftest)."""
    return module_folder(MODULE, SOURCE)


def _ini(site: Path, body: str) -> Path:
    return write_site(site, "egg:wsgihub-werkzeug#app", body, prefix="/s", name="shop")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (f"app = {MODULE}:application\n", "ready"),
        (f"app = {MODULE}:create_app\n", "made"),  # an app factory is called, as for --mount
        (f"factory = {MODULE}:create\ngreeting = bonjour\n", "bonjour"),
    ],
)
def test_app_or_factory(site: Path, body: str, text: str) -> None:
    hub = wsgihub.load(str(_ini(site, body)))
    assert hub.url_for("shop:hello") == "/s/hello"
    assert Client(hub).get("/s/hello").text == text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "[app:shop] set exactly one of 'app' (an application) and 'factory' (a callable)"),
        (f"app = {MODULE}:application\ngreeting = x\n", "[app:shop] greeting: unknown setting; with 'app' only 'app' is read"),
        (f"app = {MODULE}:nothing\n", f"[app:shop] app: '{MODULE}:nothing': module '{MODULE}' has no attribute 'nothing'"),
        (f"app = {MODULE}:create\n", f"[app:shop] app: '{MODULE}:create': 'create' takes 1 required argument"),
        (f"factory = {MODULE}:explode\ngreeting = x\n", f"[app:shop] factory: '{MODULE}:explode' raised ValueError: bad greeting 'x'"),
        (f"factory = {MODULE}:application\n", f"[app:shop] factory: '{MODULE}:application' raised TypeError"),
    ],
    ids=["neither", "app-with-settings", "no-attribute", "neither-app-nor-factory", "factory-raises", "factory-is-an-app"],
)
def test_errors_name_file_section_and_key(site: Path, body: str, expected: str) -> None:
    path = _ini(site, body)
    with pytest.raises(DeployError) as info:
        wsgihub.load(str(path))
    assert str(info.value).startswith(f"{path}: {expected}"), info.value
    assert "\n" not in str(info.value)
