"""docs/plugins.md's Bottle adapter, exactly as printed, passes the adapter conformance suite.

The module is the ``# wsgihub_bottle.py`` block of the guide; the
app is a real Bottle app; the suite is the one every built-in adapter runs.
So is the guide's own conformance example (the block that subclasses
``AdapterConformance``), run here as printed.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import bottle

from wsgihub.plugins import Plugins, make_plugins
from wsgihub.testing import call, reference_hub
from wsgihub.testing.conformance import AdapterConformance, RouteCase

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
_BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)


def _block(marker: str) -> str:
    found = [block for block in _BLOCKS if marker in block]
    assert len(found) == 1, f"docs/plugins.md: {len(found)} python blocks contain {marker!r}"
    return found[0]


def _load_module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"{GUIDE}:{name}"
    sys.modules[name] = module  # the guide's test imports it by name
    exec(compile(source, f"docs/plugins.md ({name})", "exec"), module.__dict__)  # noqa: S102  (the guide's code, as printed)
    return module


wsgihub_bottle = _load_module("wsgihub_bottle", _block("# wsgihub_bottle.py\n"))


def make_app() -> bottle.Bottle:
    """A Bottle app with a session cookie, GET and POST routes, an ANY route and an unnamed one."""
    app = bottle.Bottle()
    app.config["session.cookie"] = "bottle_session"

    @app.get("/", name="index")
    def index() -> str:
        return "index"

    @app.get("/users/<uid:int>", name="user")
    def user(uid: int) -> str:
        bottle.response.set_cookie("bottle_session", "1", path="/")
        return f"user {uid} {app.get_url('user', uid=uid)}"

    @app.route("/login", method=["GET", "POST"], name="login")
    def login() -> str:
        return f"login {bottle.request.method}"

    @app.route("/hook", method="ANY", name="hook")
    def hook() -> str:
        return "hook"

    @app.get("/unnamed")
    def unnamed() -> str:
        return "unnamed"

    return app


class TestDocsBottleConformance(AdapterConformance):
    framework = "bottle"
    route = RouteCase(
        endpoint="user",
        rule="/users/<uid:int>",
        values={"uid": 5},
        path="/users/5",
        missing="uid",
        bad={"uid": "x"},
        methods=frozenset({"GET", "HEAD"}),
    )
    cookies = frozenset({"bottle_session"})

    def make_app(self) -> bottle.Bottle:
        return make_app()

    def make_plugins(self) -> Plugins:
        return make_plugins(autoload=False, plugins=[wsgihub_bottle])

    def framework_state(self) -> object:
        try:
            return bottle.request.environ
        except RuntimeError:
            return None


def test_routes_list_real_methods() -> None:
    hub = reference_hub(wsgihub_bottle)
    hub.mount("/b", make_app(), name="b")
    methods = {route.endpoint: route.methods for route in hub.routes("b")}
    assert methods == {
        "index": frozenset({"GET", "HEAD"}),
        "user": frozenset({"GET", "HEAD"}),
        "login": frozenset({"GET", "HEAD", "POST"}),
        "hook": None,
    }


def test_a_grafted_bottle_app_takes_its_routes_from_the_app_beneath() -> None:
    hub = reference_hub(wsgihub_bottle)
    from wsgihub.testing import ReferenceApp

    hub.mount("/", ReferenceApp("legacy", {"home": "/", "user": "/users/<uid>"}), name="legacy")
    hub.graft(make_app(), over="legacy", name="new")
    assert call(hub, "/users/7").text == "user 7 /users/7"
    assert call(hub, "/users/x").text == "legacy:user |/users/x"
    assert call(hub, "/login", "POST").text == "login POST"
    assert hub.url_for("new:user", uid=3, tab="a") == "/users/3?tab=a"


# The guide's own example of running the suite, as printed.
_guide_test = _load_module("docs_plugins_bottle_conformance", _block("class TestBottleConformance"))
TestGuideBottleConformance = _guide_test.TestBottleConformance
