"""``hub.asgi``: the hub as an ASGI application, served by a real uvicorn on 127.0.0.1.

Two ways to run it, both tested: driven by the bus (:class:`wsgihub.servers.uvicorn.UvicornServer`,
what ``wsgihub serve --server uvicorn`` does), and as a plain ASGI app whose
lifespan starts and stops the bus (``uvicorn site:hub.asgi``).  The site has
a FastAPI app (native), Flask and plain WSGI apps (thread pool), and a
FastAPI app grafted over the Flask app.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
pytest.importorskip("wsgihub_starlette")
pytest.importorskip("wsgihub_flask")

import flask
import requests
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from live_apps.asgi_sites import make_api, make_flask, make_new, site
from live_apps.echo import app_a
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import wsgihub
from wsgihub.asgi import ASGIHub
from wsgihub.servers import bind_socket
from wsgihub.servers.uvicorn import UvicornServer


@contextmanager
def on_the_bus(hub: wsgihub.Hub, app: Any = None) -> Iterator[str]:
    """Serve ``hub.asgi`` (or ``app``) with uvicorn driven by the hub's bus; yield the URL."""
    server = UvicornServer(hub.bus, app if app is not None else hub.asgi, sock=bind_socket("127.0.0.1", 0))
    server.subscribe()
    hub.bus.start()
    try:
        yield server.url
    finally:
        hub.bus.exit()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with on_the_bus(site()) as served:
        yield served


def test_asgi_mounts_are_native_with_the_mount_as_root_path_and_their_lifespan_state(url: str) -> None:
    body = requests.get(url + "/api/items/3", timeout=10).json()
    assert body["root_path"] == "/api"
    assert body["own"] == url + "/api/items/3"  # Starlette's own url_for keeps the prefix
    assert body["db"] == "ready" and body["same_loop"] is True  # lifespan ran on the server's loop


def test_url_for_works_in_every_app_both_ways(url: str) -> None:
    body = requests.get(url + "/api/items/3", timeout=10).json()
    assert body["hub_url"] == "/flask/hello"  # HubURL dependency
    assert body["state_hub_url"] == "/api/items/4"  # request.state.hub_url
    assert body["wsgihub_url_for"] == "/flask/old"  # wsgihub.url_for in the app's task
    assert requests.get(url + "/api/sync", timeout=10).json() == {"flask": "/flask/hello"}  # sync view, thread
    hello = requests.get(url + "/flask/hello", timeout=10).json()  # Flask in the thread pool
    assert hello == {"api": "/api/items/7", "script_name": "/flask"}


def test_wsgi_mounts_see_script_name_and_path_info_as_under_a_wsgi_server(url: str) -> None:
    body = requests.get(url + "/wsgi/x/y?q=1", timeout=10).json()
    assert (body["script_name"], body["path_info"]) == ("/wsgi", "/x/y")
    assert requests.get(url + "/nowhere", timeout=10).status_code == 404


def test_a_fastapi_graft_over_flask_is_route_aware_and_falls_through(url: str) -> None:
    assert requests.get(url + "/flask/new", timeout=10).json() == {"app": "fastapi-graft", "flask": "/flask/old"}
    # the graft has a GET /old route that answers 404: GET falls through to Flask
    assert requests.get(url + "/flask/old", timeout=10).json() == {"app": "flask", "page": "old"}
    # routes the graft does not have go to Flask directly
    assert requests.get(url + "/flask/hello", timeout=10).status_code == 200


def test_a_post_the_graft_takes_runs_there_only() -> None:
    hub = wsgihub.Hub()
    calls: list[str] = []
    flask_app = make_flask()

    @flask_app.post("/old")
    def flask_post() -> Any:
        calls.append("flask")
        return {"app": "flask"}

    from fastapi import FastAPI, HTTPException

    new = FastAPI()

    @new.post("/old")
    async def graft_post() -> None:
        calls.append("graft")
        raise HTTPException(404)

    hub.mount("/flask", flask_app, name="flask")
    hub.graft(new, over="flask", name="new")
    with on_the_bus(hub) as served:
        assert requests.post(served + "/flask/old", data=b"x", timeout=10).status_code == 404
    assert calls == ["graft"]  # nothing with side effects runs twice


def test_websockets_reach_asgi_mounts_and_are_refused_for_wsgi_ones(url: str) -> None:
    ws_url = url.replace("http://", "ws://")
    with connect(ws_url + "/api/ws") as ws:
        ws.send("hello")
        assert ws.recv() == "echo:hello:/api"
        ws.send("bye")
    for path in ("/flask/hello", "/wsgi/x", "/nowhere"):
        with pytest.raises(InvalidStatus) as refused, connect(ws_url + path):
            pass
        assert refused.value.response.status_code == 403


def test_the_partyline_and_the_bus_are_the_hubs() -> None:
    hub = site()
    seen: list[str] = []
    hub.partyline.connect("ping", lambda payload: "pong")
    hub.bus.subscribe("start", lambda: seen.append("start"))
    hub.bus.subscribe("stop", lambda: seen.append("stop"))
    with on_the_bus(hub):
        assert hub.bus.state_name == "STARTED"
        assert hub.partyline.ask_around("ping", None) == ["pong"]
    assert seen == ["start", "stop"]


def test_front_paths_go_to_the_wsgi_side() -> None:
    hub = wsgihub.Hub()
    hub.mount("/", make_api(), name="api")  # an ASGI app at the root
    hub.mount("/flask", make_flask(), name="flask")

    def health(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return hub(environ, start_response)

    app = ASGIHub(hub, health, threads=2, front_paths=["/healthz"])
    with on_the_bus(hub, app) as served:
        assert requests.get(served + "/healthz", timeout=10).text == "ok"
        assert requests.get(served + "/items/1", timeout=10).json()["root_path"] == ""


def test_a_bare_asgi_server_drives_the_bus_through_the_lifespan() -> None:
    hub = wsgihub.Hub()
    hub.mount("/api", make_api(), name="api")
    hub.mount("/flask", make_flask(), name="flask")
    hub.mount("/a", app_a, name="a")
    started = threading.Event()
    hub.bus.subscribe("start", started.set)
    sock = bind_socket("127.0.0.1", 0)
    sock.listen(16)  # connections wait in the backlog until uvicorn accepts them
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(hub.asgi, lifespan="on", log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert started.wait(20)
        assert requests.get(url + "/api/items/1", timeout=10).json()["db"] == "ready"
        assert requests.get(url + "/a/", timeout=10).json()["script_name"] == "/a"
        assert hub.bus.state_name == "STARTED"
    finally:
        server.should_exit = True
        thread.join(20)
    assert hub.bus.state_name == "STOPPED"  # lifespan shutdown stopped the bus


def test_a_failing_bus_start_fails_the_lifespan_startup() -> None:
    hub = wsgihub.Hub()
    hub.mount("/a", app_a, name="a")

    def refuse() -> None:
        raise RuntimeError("the database is not there")

    hub.bus.subscribe("start", refuse)
    sent: list[dict[str, Any]] = []

    async def lifespan() -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})

        async def send(message: Any) -> None:
            sent.append(dict(message))

        await hub.asgi({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)

    asyncio.run(lifespan())
    assert sent == [{"type": "lifespan.startup.failed", "message": "RuntimeError: the database is not there"}]
    assert hub.bus.state_name == "STOPPED"


def test_hub_asgi_is_one_object() -> None:
    hub = wsgihub.Hub()
    assert hub.asgi is hub.asgi
    assert isinstance(hub.asgi, ASGIHub)


def test_url_for_reaches_a_grafted_asgi_app() -> None:
    hub = wsgihub.Hub()
    hub.mount("/flask", make_flask(), name="flask")
    hub.graft(make_new(), over="flask", name="new")
    assert hub.url_for("new:new_page") == "/flask/new"


def test_a_wsgi_response_streams_chunk_by_chunk_and_an_error_is_a_500() -> None:
    go_on = threading.Event()

    def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first;"
        assert go_on.wait(20)  # the client has the first chunk before the app makes the second
        yield b"second"

    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("the app fails")

    hub = wsgihub.Hub()
    hub.mount("/stream", streaming, name="stream")
    hub.mount("/broken", broken, name="broken")
    with on_the_bus(hub) as served:
        with requests.get(served + "/stream/", stream=True, timeout=30) as response:
            chunks = response.iter_content(chunk_size=None)
            assert next(chunks) == b"first;"
            go_on.set()
            assert b"".join(chunks) == b"second"
        assert requests.get(served + "/broken/", timeout=10).status_code == 500


def test_the_pool_runs_calls_without_a_future_and_keeps_going_after_one_raises() -> None:
    """``ThreadPool.run_soon``: what hub.asgi's WSGI side uses (the call reports its own outcome)."""
    from wsgihub.asgi import ThreadPool

    pool = ThreadPool(2)
    ran: list[str] = []
    done = threading.Event()

    def fail() -> None:
        raise RuntimeError("lost on purpose")

    def record(name: str) -> None:
        ran.append(threading.current_thread().name)
        done.set()

    pool.run_soon(fail)
    pool.run_soon(record, "second")
    assert done.wait(10)
    assert ran and ran[0].startswith("wsgihub-wsgi-")
    assert pool.submit(lambda: 42).result(10) == 42
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.run_soon(record, "late")


def test_requests_to_a_mount_with_asgi_grafts_get_the_front_layers(caplog: pytest.LogCaptureFixture) -> None:
    """Request ID, forwarded headers and access log reach a mount whose grafts include an ASGI app.

    Whichever app answers (the FastAPI graft, the Flask app beneath, or Flask
    after the graft's 404), the request gets the front layers once, as a
    request to a mount without grafts does: one ``X-Request-ID`` (the client's
    when well-formed, the one the apps saw), no forwarded header from an
    untrusted client, one access-log line.
    """
    from wsgihub.serve import ServeOptions
    from wsgihub.servers.front import front

    beneath = flask.Flask("beneath")

    @beneath.get("/flask-page")
    def flask_page() -> Any:
        env = flask.request.environ
        return {"app": "flask", "id": env.get("wsgihub.request_id"), "xff": env.get("HTTP_X_FORWARDED_FOR")}

    graft = FastAPI()

    @graft.get("/graft-page")
    async def graft_page(request: Request) -> dict[str, Any]:
        return {"app": "graft", "id": request.scope.get("wsgihub.request_id"), "xff": request.headers.get("x-forwarded-for")}

    @graft.get("/flask-page")
    async def not_here() -> None:
        raise HTTPException(404)  # a GET falls through to Flask

    hub = wsgihub.Hub()
    hub.mount("/m", beneath, name="m")
    hub.graft(graft, over="m", name="g")
    options = ServeOptions(access_log="-")
    app = ASGIHub(hub, front(hub, options), options=options)
    with caplog.at_level(logging.INFO, logger="wsgihub.access"), on_the_bus(hub, app) as served:
        answers = {}
        for n, path in enumerate(("/m/graft-page", "/m/flask-page")):
            given = f"given-{n}"
            response = requests.get(
                served + path, headers={"X-Request-ID": given, "X-Forwarded-For": "203.0.113.9"}, timeout=10
            )
            assert response.status_code == 200, path
            assert response.headers["X-Request-ID"] == given  # one header (two would be joined with ', ')
            answers[path] = response.json()
            assert answers[path]["id"] == given and answers[path]["xff"] is None  # untrusted: removed
        made = requests.get(served + "/m/flask-page", timeout=10)
        assert made.json()["id"] == made.headers["X-Request-ID"] and len(made.headers["X-Request-ID"]) == 32
    assert answers["/m/graft-page"]["app"] == "graft" and answers["/m/flask-page"]["app"] == "flask"
    lines = [r.getMessage() for r in caplog.records if r.name == "wsgihub.access"]
    for request_id, path in (("given-0", "/m/graft-page"), ("given-1", "/m/flask-page"), (made.headers["X-Request-ID"], "/m/flask-page")):
        assert sum(request_id in line and path in line for line in lines) == 1, (request_id, lines)
    # each line names the mount that answered (text: ... mount endpoint request_id): the graft,
    # or the app beneath after the graft's 404
    named = {line.split()[-1]: tuple(line.split()[-3:-1]) for line in lines}
    assert (named["given-0"], named["given-1"]) == (("g", "graft_page"), ("m", "flask_page")), lines


def test_native_front_reads_a_custom_id_header_and_drops_untrusted_proxy_headers() -> None:
    """Through ``hub.asgi`` with the front applied: any ID header name, proxy headers of every spelling."""
    from wsgihub.serve import ServeOptions
    from wsgihub.servers.front import front

    api = FastAPI()

    @api.get("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"id": request.scope.get("wsgihub.request_id"), "names": [n.decode() for n, _ in request.scope["headers"]]}

    hub = wsgihub.Hub()
    hub.mount("/api", api, name="api")
    options = ServeOptions(request_id_header="Trace-Id")
    app = ASGIHub(hub, front(hub, options), options=options)
    sent: list[dict[str, Any]] = []
    headers = [
        (b"host", b"example.com"),
        (b"x-forwarded-for", b"203.0.113.9"),
        (b"forwarded", b"for=203.0.113.9"),
        (b"x-real-ip", b"203.0.113.9"),
        (b"x-request-id", b"not-this-one"),
        (b"trace-id", b"given-7"),
        (b"fancy", b"kept"),
    ]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/api/echo", "raw_path": b"/api/echo", "root_path": "", "query_string": b"",
        "headers": headers, "client": ("198.51.100.1", 5000), "server": ("example.com", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    import json

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    assert start["status"] == 200 and [v for n, v in start["headers"] if n.lower() == b"trace-id"] == [b"given-7"]
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["id"] == "given-7"
    assert body["names"] == ["host", "x-request-id", "trace-id", "fancy"]  # proxy headers removed, others kept
