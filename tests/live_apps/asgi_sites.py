"""A site with ASGI and WSGI mounts, served by the live uvicorn tests as ``live_apps.asgi_sites:site``.

- ``/api``: FastAPI (native under ``hub.asgi``): a route named ``read_item``
  answering the URLs it builds every way (Starlette's ``url_for``, the
  ``HubURL`` dependency, ``request.state.hub_url``, ``wsgihub.url_for``), the
  state its lifespan yielded, a websocket echo, a slow route;
- ``/flask``: Flask (WSGI, in the thread pool): a page linking into the
  FastAPI app, a streaming upload counter, a slow route; a FastAPI app
  grafted over it (``/flask/new``, a route that answers 404 to fall through);
- ``/wsgi``: a plain WSGI echo.

The slow routes print :data:`live_apps.echo.ARRIVED` when a request arrives.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import flask
from fastapi import FastAPI, HTTPException, Request, WebSocket
from wsgihub_starlette import HubURL

import wsgihub

from .echo import ARRIVED, app_a

#: One slow request to each side (the FastAPI route on the server's loop, the Flask view in
#: a WSGI thread), 2 s each, and their answers: what the drain tests hold in flight.
SLOW_PATHS = ("/api/slow?seconds=2", "/flask/slow?seconds=2")
SLOW_ANSWERS = {"/api/slow?seconds=2": {"slept": 2.0}, "/flask/slow?seconds=2": {"slept": True}}


def _arrived() -> None:
    sys.stdout.write(ARRIVED + "\n")
    sys.stdout.flush()


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def make_api() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        sys.stdout.write("MARKER api lifespan startup\n")
        sys.stdout.flush()
        yield {"db": "ready", "loop": id(asyncio.get_running_loop())}
        sys.stdout.write("MARKER api lifespan shutdown\n")
        sys.stdout.flush()

    api = FastAPI(lifespan=lifespan)

    @api.get("/items/{item_id}", name="read_item")
    async def read_item(item_id: int, request: Request, hub_url: HubURL) -> dict[str, Any]:
        return {
            "item": item_id,
            "own": str(request.url_for("read_item", item_id=item_id)),
            "hub_url": hub_url("flask:hello"),
            "state_hub_url": request.state.hub_url("api:read_item", item_id=item_id + 1),
            "wsgihub_url_for": wsgihub.url_for("flask:old"),
            "root_path": request.scope["root_path"],
            "db": request.state.db,
            "same_loop": request.state.loop == id(asyncio.get_running_loop()),
        }

    @api.get("/front", name="front")
    async def front(request: Request) -> dict[str, Any]:
        # what the front layers gave a native request: the request ID (scope, log records,
        # the environ url_for reads), the client, scheme and host, forwarded headers left
        record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 0, "m", (), None)
        return {
            "request_id": request.scope.get("wsgihub.request_id"),
            "record_request_id": getattr(record, "request_id", None),
            "client": request.scope["client"][0],
            "scheme": request.scope["scheme"],
            "root_path": request.scope["root_path"],
            "host": request.headers.get("host"),
            "forwarded": sorted(k for k in request.headers if k.startswith("x-forwarded-") or k == "forwarded"),
            "url_for": wsgihub.url_for("api:front"),
        }

    @api.get("/sync", name="sync_view")
    def sync_view() -> dict[str, Any]:  # runs in a worker thread
        return {"flask": wsgihub.url_for("flask:hello")}

    @api.get("/slow", name="slow")
    async def slow(seconds: float = 1.0) -> dict[str, Any]:
        _arrived()
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @api.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            if text == "bye":
                await websocket.close()
                return
            await websocket.send_text(f"echo:{text}:{websocket.scope['root_path']}")

    return api


def make_flask() -> flask.Flask:
    app = flask.Flask("asgi_sites_flask")

    @app.get("/hello")
    def hello() -> Any:
        return {"api": wsgihub.url_for("api:read_item", item_id=7), "script_name": flask.request.script_root}

    @app.post("/upload")
    def upload() -> Any:
        stream = flask.request.stream
        size = 0
        largest = 0
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            size += len(chunk)
            largest = max(largest, len(chunk))
        return {"size": size, "largest": largest, "rss_kib": _rss_kib()}

    @app.get("/rss")
    def rss() -> Any:
        return {"rss_kib": _rss_kib()}

    @app.get("/slow")
    def slow() -> Any:
        _arrived()
        time.sleep(float(flask.request.args.get("seconds", "1")))
        return {"slept": True}

    @app.get("/old")
    def old() -> Any:
        return {"app": "flask", "page": "old"}

    return app


def make_new() -> FastAPI:
    new = FastAPI()

    @new.get("/new", name="new_page")
    async def new_page() -> dict[str, str]:
        return {"app": "fastapi-graft", "flask": wsgihub.url_for("flask:old")}

    @new.get("/old")
    async def not_here() -> dict[str, str]:
        raise HTTPException(404)  # falls through to Flask

    return new


def site() -> wsgihub.Hub:
    hub = wsgihub.Hub()
    hub.mount("/api", make_api(), name="api")
    hub.mount("/flask", make_flask(), name="flask")
    hub.graft(make_new(), over="flask", name="new")
    hub.mount("/wsgi", app_a, name="wsgi")
    return hub
