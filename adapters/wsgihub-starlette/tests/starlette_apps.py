"""Real Starlette and FastAPI apps the tests mount (made fresh per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from wsgihub_starlette import HubURL


def make_fastapi(static_dir: Path | None = None, events: list[str] | None = None) -> FastAPI:
    """A FastAPI app: ``read_item`` at ``/items/{item_id:int}``, a router, a sub-app, a form, sessions.

    ``events`` records the lifespan's startup and shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if events is not None:
            events.append("startup")
        yield {"greeting": "hello from the lifespan"}
        if events is not None:
            events.append("shutdown")

    app = FastAPI(lifespan=lifespan, middleware=[Middleware(SessionMiddleware, secret_key="tests-only")])

    @app.get("/items/{item_id:int}")
    def read_item(item_id: int) -> dict[str, Any]:
        return {"item_id": item_id}

    @app.post("/items/")
    async def create_item(request: Request) -> dict[str, Any]:
        return {"created": (await request.body()).decode()}

    @app.get("/links/{item_id:int}")
    def links(item_id: int, request: Request, hub_url: HubURL) -> dict[str, Any]:
        return {
            "dependency": hub_url("api:read_item", item_id=item_id),
            "state": request.state.hub_url("api:read_item", item_id=item_id + 1),
            "own": request.url_for("read_item", item_id=item_id).path,
            "greeting": request.state.greeting,
        }

    router = APIRouter(prefix="/users")

    @router.get("/{name}", name="user")
    def user(name: str) -> dict[str, str]:
        return {"user": name}

    app.include_router(router)

    sub = Starlette(routes=[Route("/hello/{who}", lambda request: PlainTextResponse("hi " + request.path_params["who"]), name="hello")])
    app.mount("/sub", sub, name="sub")
    if static_dir is not None:
        app.mount("/assets", StaticFiles(directory=static_dir), name="assets")
    return app


def make_starlette() -> Starlette:
    """A plain Starlette app: ``home`` at ``/`` and ``page`` at ``/pages/{slug}``, GET only."""

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("starlette home")

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"page {request.path_params['slug']} {request.url_for('page', slug='x').path}")

    return Starlette(routes=[Route("/", home, name="home"), Route("/pages/{slug}", page, name="page"), Mount("/nested", routes=[Route("/deep", home, name="deep")], name="nested")])


def plain_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that is no Starlette app (for the site-file error)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain"]
