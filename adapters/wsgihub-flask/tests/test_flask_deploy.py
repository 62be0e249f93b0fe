"""``egg:wsgihub-flask#app`` in a real site file: factories called, errors as ``FILE: [app:NAME] KEY: ...``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import flask
import pytest
from werkzeug.test import Client

import wsgihub
from wsgihub.errors import DeployError
from wsgihub.testing import write_site

MODULE = "flask_deploy_site"

SOURCE = '''
import flask

def create_app():
    app = flask.Flask("made")

    @app.route("/hi")
    def hi():
        return f"hi {app.config.get('GREETING', '?')}"

    return app

app = create_app()

def not_flask():
    return lambda environ, start_response: []

def broken():
    raise KeyError("no DATABASE_URL")
'''


@pytest.fixture
def site(module_folder: Callable[[str, str], Path]) -> Path:
    """The folder holding MODULE, the current directory (the kit's module_folder, imported by conftest)."""
    return module_folder(MODULE, SOURCE)


def _ini(site: Path, body: str) -> Path:
    return write_site(site, "egg:wsgihub-flask#app", body)


@pytest.mark.parametrize("attr", ["app", "create_app"])
def test_app_names_a_flask_app_or_its_factory(site: Path, attr: str) -> None:
    hub = wsgihub.load(str(_ini(site, f"app = {MODULE}:{attr}\nGREETING = \"hello\"\n")))
    assert isinstance(hub.peg("new").app, flask.Flask)
    assert Client(hub).get("/new/hi").text == "hi hello"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"app = {MODULE}:app\nsecret = x\n", "[app:new] secret: unknown setting; expected app, config_object"),
        ("", "[app:new] app: required (e.g. app = mysite:create_app)"),
        (f"app = {MODULE}:nothing\n", f"[app:new] app: '{MODULE}:nothing': module '{MODULE}' has no attribute 'nothing'"),
        (f"app = {MODULE}:not_flask\n", f"[app:new] app: '{MODULE}:not_flask' is not a Flask app nor returns one"),
        (f"app = {MODULE}:broken\n", f"[app:new] app: '{MODULE}:broken': the factory raised KeyError: 'no DATABASE_URL'"),
        (f"app = {MODULE}:app\nconfig_file = absent.cfg\n", "[app:new] config_file: 'absent.cfg': Unable to load configuration file (No such file or directory)"),
        (f"app = {MODULE}:app\nconfig_object = {MODULE}.Nope\n", f"[app:new] config_object: '{MODULE}.Nope': module '{MODULE}' has no attribute 'Nope'"),
    ],
    ids=["unknown-key", "no-app", "no-attribute", "not-flask", "factory-raises", "config-file", "config-object"],
)
def test_errors_name_file_section_and_key(site: Path, body: str, expected: str) -> None:
    path = _ini(site, body)
    with pytest.raises(DeployError) as info:
        wsgihub.load(str(path))
    assert str(info.value) == f"{path}: {expected}" or str(info.value).startswith(f"{path}: {expected}"), info.value
    assert "\n" not in str(info.value)


def test_a_mount_naming_a_factory_mounts_the_flask_app(site: Path) -> None:
    """``--mount /new=pkg:create_app`` mounts the app the factory returns (issue 8 §9), as SITE does."""
    hub = wsgihub.load(mounts=[f"/new={MODULE}:create_app"])
    assert hub.peg("new").framework == "flask" and isinstance(hub.peg("new").app, flask.Flask)
    assert hub.url_for("new:hi") == "/new/hi"
    assert Client(hub).get("/new/hi").text == "hi ?"
    as_site = wsgihub.load(f"{MODULE}:create_app")
    assert [p.framework for p in as_site.pegs()] == ["flask"]
