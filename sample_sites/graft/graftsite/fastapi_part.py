"""A small FastAPI service beside the legacy site: the newest part, mounted at ``/v2``.

It reads the legacy Django database (the posts) and links to every other
part of the site with the ``HubURL`` dependency -- the Django blog, the
grafted Flask pages, the Pyramid API -- never hard-coding where they live.
It is an ASGI app: under waitress or gunicorn the hub serves it through its
bridge, and the hub's bus runs its lifespan.

Routes: ``v2:index`` (``/v2/``), ``v2:post`` (``/v2/posts/{pk:int}``);
FastAPI's own ``v2:openapi`` (``/v2/openapi.json``) and ``v2:swagger_ui_html``
(``/v2/docs``) come with it.

Mounted in Python (``graftsite.site``)::

    hub.mount("/v2", make_fastapi(), name="v2")

and in ``site.ini``::

    /v2 = v2

    [app:v2]
    use = egg:wsgihub-starlette#app
    app = graftsite.fastapi_part:make_fastapi
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from wsgihub_starlette import HubURL

__all__ = ["make_fastapi"]

#: The service's name (its title, and ``request.state.service`` once the lifespan ran).
SERVICE = "graftsite v2"


def prepare_database() -> None:
    """The legacy site's ``migrate`` and seed data, once per process (graftsite.legacy.startup)."""
    from graftsite.legacy.startup import prepare_database as prepare

    prepare()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Runs once when the hub's bus starts (the legacy database made ready), and past the ``yield`` when it stops."""
    await anyio.to_thread.run_sync(prepare_database)
    yield {"service": SERVICE}


def index(request: Request, hub_url: HubURL) -> dict[str, Any]:
    """Where everything is, built by the hub from each part's own routes."""
    return {
        # The lifespan's state when the hub's bus started it; a hub handed to a WSGI server
        # without start() runs no lifespan, and the page still answers.
        "name": getattr(request.state, "service", SERVICE),
        "links": {
            "self": hub_url("v2:index", _external=True),
            "docs": hub_url("v2:swagger_ui_html", _external=True),
            "home": hub_url("legacy:home", _external=True),
            "blog": hub_url("legacy:blog:index", _external=True),
            "reports": hub_url("new:reports", _external=True),
            "posts_api": hub_url("api:posts", _external=True),
        },
    }


def post(pk: int, hub_url: HubURL) -> dict[str, Any]:
    """One post of the legacy blog, read with Django's ORM (a sync endpoint: FastAPI runs it in a thread)."""
    from django.db import close_old_connections

    from graftsite.legacy.blog.models import Post

    prepare_database()  # done by the lifespan when the bus started; a hub served without start() too
    try:
        found = Post.objects.select_related("author").filter(pk=pk).first()
    finally:
        close_old_connections()
    if found is None:
        raise HTTPException(404, f"no post {pk}")
    return {
        "id": found.pk,
        "title": found.title,
        "links": {
            "self": hub_url("v2:post", pk=found.pk, _external=True),
            "html": hub_url("legacy:blog:detail", pk=found.pk, _external=True),
            "author": hub_url("new:user", uid=found.author_id, _external=True),
            "api": hub_url("api:post", pk=found.pk, _external=True),
        },
    }


def make_fastapi() -> FastAPI:
    """The service (an app factory: ``app = graftsite.fastapi_part:make_fastapi`` in a site file)."""
    app = FastAPI(title=SERVICE, lifespan=lifespan)
    app.add_api_route("/", index, methods=["GET"], name="index")
    app.add_api_route("/posts/{pk:int}", post, methods=["GET"], name="post")
    return app
