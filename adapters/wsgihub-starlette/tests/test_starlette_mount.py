"""A FastAPI app mounted and grafted on a hub: routes, URLs, grafts, lifespan, cookies, checks."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import wsgihub_starlette.plugin
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette_apps import make_fastapi, make_starlette
from wsgihub_starlette import Bridge, LifespanError

from wsgihub import Hub, MountWarning, URLBuildError
from wsgihub.errors import UnknownEndpointError
from wsgihub.plugins import make_plugins
from wsgihub.testing import call, echo_app, serving


def as_json(result: Any) -> Any:
    """The JSON body of a response (``wsgihub.testing.Result``)."""
    assert 200 <= result.code < 300, (result.status, result.text)
    return json.loads(result.text)


def make_hub(**options: Any) -> Hub:
    options.setdefault("trusted_hosts", ["example.com", "localhost", "127.0.0.1"])
    return Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_starlette.plugin]), **options)


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "site.css").write_text("body { color: teal }")
    return tmp_path


def test_the_plugin_imports_no_framework_to_look() -> None:
    """Loading the plugin and mounting a plain WSGI app imports neither Starlette, FastAPI nor a2wsgi."""
    code = (
        "import sys, wsgihub, wsgihub_starlette.plugin\n"
        "hub = wsgihub.Hub()\n"
        "hub.mount('/x', lambda environ, start_response: [])\n"
        "print(sorted(m for m in ('starlette', 'fastapi', 'a2wsgi') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_issue_example(static_dir: Path) -> None:
    hub = make_hub()
    app = make_fastapi(static_dir)
    peg = hub.mount("/api", app)
    assert peg.framework == "starlette"
    assert isinstance(peg.app, Bridge) and peg.app.app is app  # the hub serves the ASGI app through its bridge
    assert peg.adapter is not None and peg.adapter.asgi is app  # type: ignore[attr-defined]
    assert hub.url_for("api:read_item", item_id=3) == "/api/items/3"


def test_routes_of_routers_sub_apps_and_static_files(static_dir: Path) -> None:
    hub = make_hub()
    hub.mount("/api", make_fastapi(static_dir))
    routes = {r.endpoint: r for r in hub.routes("api")}
    assert routes["read_item"].rule == "/api/items/{item_id:int}"
    assert routes["read_item"].methods == frozenset({"GET"})
    assert routes["create_item"].methods == frozenset({"POST"})
    assert routes["user"].rule == "/api/users/{name}"  # an APIRouter with a prefix
    assert routes["sub:hello"].rule == "/api/sub/hello/{who}"  # a named Mount of a Starlette sub-app
    assert routes["assets"].rule == "/api/assets/{path:path}"
    assert routes["openapi"].rule == "/api/openapi.json"
    static = [r for r in hub.peg("api").adapter.routes() if r.static]  # type: ignore[union-attr]
    assert [r.endpoint for r in static] == ["assets"]


def test_url_building() -> None:
    hub = make_hub(public_url="https://example.org/site")
    hub.mount("/api", make_fastapi(Path(__file__).parent))
    assert hub.url_for("api:sub:hello", who="ann") == "/site/api/sub/hello/ann"
    assert hub.url_for("api:assets", path="/css/site.css") == "/site/api/assets/css/site.css"
    assert hub.url_for("api:user", name="a b") == "/site/api/users/a%20b"
    assert hub.url_for("api:read_item", item_id=3, q="x y", tag=["a", "b"]) == "/site/api/items/3?q=x+y&tag=a&tag=b"
    assert hub.url_for("api:read_item", item_id=3, _external=True) == "https://example.org/site/api/items/3"
    assert hub.url_for("api:create_item", _method="POST") == "/site/api/items/"
    with pytest.raises(URLBuildError, match="no route named 'create_item' takes GET"):
        hub.url_for("api:create_item", _method="GET")
    with pytest.raises(UnknownEndpointError, match=r"^cannot build 'api:sub:nope': no route named 'sub:nope'"):
        hub.url_for("api:sub:nope")
    with pytest.raises(URLBuildError, match="missing value 'who' for '/sub/hello/{who}'"):
        hub.url_for("api:sub:hello")
    with pytest.raises(URLBuildError, match="value -1 for 'item_id' is refused"):
        hub.url_for("api:read_item", item_id=-1)


def test_match_with_starlettes_own_router() -> None:
    hub = make_hub()
    hub.mount("/api", make_fastapi())
    adapter = hub.peg("api").adapter
    assert adapter is not None
    assert adapter.match_endpoint("/items/3", "GET") == "read_item"
    assert adapter.match_endpoint("/items/x", "GET") is False  # the int convertor refuses it
    assert adapter.match_endpoint("/items/3", "POST") is False  # Starlette would answer 405
    assert adapter.match_endpoint("/sub/hello/ann", "GET") == "sub:hello"
    assert adapter.match_endpoint("/sub/nothing", "GET") is False
    assert adapter.match_endpoint("/items", "POST") is True  # the router's slash redirect to /items/


def test_graft_over_a_wsgi_app_with_fall_through(static_dir: Path) -> None:
    hub = make_hub()
    hub.mount("/", echo_app("legacy"), name="legacy")
    hub.graft(make_fastapi(static_dir), over="legacy", name="api")
    assert as_json(call(hub, "/items/3")) == {"item_id": 3}
    assert call(hub, "/about").text == "legacy |/about"
    assert call(hub, "/items/3", "DELETE").text == "legacy |/items/3"
    assert call(hub, "/assets/site.css").text == "body { color: teal }"
    # StaticFiles answers 404 for a file it lacks: a GET falls through to the app beneath
    assert call(hub, "/assets/old.css").text == "legacy |/assets/old.css"
    created = call(hub, "/items/", "POST", CONTENT_LENGTH="3", **{"wsgi.input": io.BytesIO(b"one")})
    assert as_json(created) == {"created": "one"}
    report = hub.graft_report("api")[0]
    assert report.readable


def test_graft_scoped_by_route_name() -> None:
    hub = make_hub()
    hub.mount("/", echo_app("legacy"), name="legacy")
    hub.graft(make_fastapi(), over="legacy", name="api", only=["read_item"])
    assert as_json(call(hub, "/items/3")) == {"item_id": 3}
    assert call(hub, "/users/ann").text == "legacy |/users/ann"


def test_request_context_and_session_cookie() -> None:
    hub = make_hub()
    hub.mount("/api", make_fastapi())
    with hub.request_context("api", {"HTTP_HOST": "example.com"}, path="/items/3") as request:
        assert request.url.path == "/api/items/3"
        assert request.url_for("read_item", item_id=4).path == "/api/items/4"
    cookies = list(hub.peg("api").adapter.cookies())  # type: ignore[union-attr]
    assert [(c.name, c.path) for c in cookies] == [("session", "/")]


def test_session_cookie_of_wrapping_middleware_and_collisions() -> None:
    hub = make_hub()
    hub.mount("/a", SessionMiddleware(make_starlette(), secret_key="x", session_cookie="sid", path="/a"), name="a")
    assert [(c.name, c.path) for c in hub.peg("a").adapter.cookies()] == [("sid", "/a")]  # type: ignore[union-attr]
    hub.mount("/api", make_fastapi(), name="api")
    with pytest.warns(MountWarning, match="cookie named 'session'"):
        hub.mount("/api2", make_fastapi(), name="api2")


def test_root_path_that_is_not_the_mount_is_reported() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FastAPI deprecates root_path= too
        other, same = FastAPI(root_path="/other"), FastAPI(root_path="/v2")
    hub = make_hub()
    with pytest.warns(MountWarning, match=r"root_path '/other' replaces the mount's prefix '/api'"):
        hub.mount("/api", other)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hub.mount("/v2", same)


def test_untrusted_hosts_never_reach_the_app() -> None:
    """Starlette's absolute URLs (request.url_for, slash redirects) use the Host: an untrusted one is a 400."""
    hub = make_hub(trusted_hosts=["example.com"])
    hub.mount("/api", make_fastapi())
    refused = call(hub, "/api/items", "POST", HTTP_HOST="evil.test")
    assert refused.code == 400 and "evil" not in refused.text
    redirect = call(hub, "/api/items", "POST", HTTP_HOST="example.com")
    assert redirect.code == 307 and redirect.header("Location") == "http://example.com/api/items/"
    open_hub = Hub(plugins=make_plugins(autoload=False, plugins=[wsgihub_starlette.plugin]))
    open_hub.mount("/api", make_fastapi())
    assert call(open_hub, "/api/items/1", HTTP_HOST="anything.test").code == 200  # a hub that restricts nothing


def test_partyline_url_service() -> None:
    hub = make_hub()
    hub.mount("/api", make_fastapi())
    assert hub.partyline.ask_around("url", {"endpoint": "api:read_item", "values": {"item_id": 7}}) == ["/api/items/7"]


# -- lifespan on the bus ----------------------------------------------------------------------------
def test_lifespan_runs_once_per_bus_start_for_an_app_at_two_mounts() -> None:
    events: list[str] = []
    app = make_fastapi(events=events)
    hub = make_hub()
    hub.mount("/api", app)
    hub.mount("/api2", app, name="api2")
    assert hub.peg("api").app is hub.peg("api2").app  # one bridge, one loop
    assert events == []
    with serving(hub) as server:
        assert events == ["startup"]
        assert as_json(server.get("/api/links/1"))["greeting"] == "hello from the lifespan"
        assert as_json(server.get("/api2/links/1"))["greeting"] == "hello from the lifespan"
    assert events == ["startup", "shutdown"]
    with serving(hub):
        assert events == ["startup", "shutdown", "startup"]
    assert events == ["startup", "shutdown", "startup", "shutdown"]


def test_mounted_and_unmounted_while_the_bus_runs() -> None:
    events: list[str] = []
    hub = make_hub()
    with hub.running():
        hub.mount("/api", make_fastapi(events=events))
        assert events == ["startup"]
        assert as_json(call(hub, "/api/links/1"))["greeting"] == "hello from the lifespan"
        hub.unmount("api")
        assert events == ["startup", "shutdown"]
    assert events == ["startup", "shutdown"]


def test_an_app_mounted_behind_a2wsgis_own_middleware() -> None:
    from a2wsgi import ASGIMiddleware

    events: list[str] = []
    middleware = ASGIMiddleware(make_fastapi(events=events))
    hub = make_hub()
    peg = hub.mount("/api", middleware)
    assert peg.framework == "starlette"
    assert isinstance(peg.app, Bridge) and peg.app.loop is middleware.loop  # served on a2wsgi's loop
    with serving(hub) as server:
        answer = as_json(server.get("/api/links/2"))
    assert answer == {"dependency": "/api/items/2", "state": "/api/items/3", "own": "/api/items/2", "greeting": "hello from the lifespan"}
    assert events == ["startup", "shutdown"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_process_gets_a_loop_of_its_own() -> None:
    """A bridge used before a fork (gunicorn --preload) serves in the child on a new loop."""
    hub = make_hub()
    hub.mount("/api", make_fastapi())
    assert as_json(call(hub, "/api/items/1")) == {"item_id": 1}
    parent_loop = hub.peg("api").app.loop  # type: ignore[attr-defined]
    pid = os.fork()
    if pid == 0:  # the child: answer a request, exit 0 only if it worked on a loop of its own
        code = 1
        try:
            signal.alarm(20)  # a child stuck on the parent's loop (no thread here) must not hang the test
            ok = as_json(call(hub, "/api/items/2")) == {"item_id": 2}
            code = 0 if ok and hub.peg("api").app.loop is not parent_loop else 1  # type: ignore[attr-defined]
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert as_json(call(hub, "/api/items/3")) == {"item_id": 3}  # the parent's loop still serves


def test_on_event_handlers_run_once() -> None:
    events: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app = FastAPI()
        app.on_event("startup")(lambda: events.append("startup"))
        app.on_event("shutdown")(lambda: events.append("shutdown"))
    hub = make_hub()
    hub.mount("/api", app)
    with pytest.warns(MountWarning, match="graft 'again' takes"):
        hub.graft(app, over="api", name="again")  # the same app twice: still one lifespan
    with hub.running():
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_a_failing_lifespan_stops_the_bus_naming_the_mount() -> None:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        raise RuntimeError("no database")
        yield

    hub = make_hub()
    hub.mount("/api", FastAPI(lifespan=lifespan))
    with pytest.raises(Exception) as caught:
        hub.start()
    message = str(caught.value)
    assert "mount 'api' (starlette): FastAPI: lifespan startup failed: RuntimeError: no database" in message
    assert "\n" not in message and "Traceback" not in message
    assert isinstance(caught.value, LifespanError) or isinstance(caught.value.__cause__, LifespanError)
    hub.stop()
