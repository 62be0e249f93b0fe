"""A FastAPI app grafted over a Django site, served by ``tests/test_uvicorn.py`` as ``live_apps.asgi_django_site:site``.

Django (settings configured here, one view module) at the root, mount ``legacy``:
``/`` (home), ``/blog/<int:pk>/`` (``blog-detail``), ``/about/``.  FastAPI grafted
over it, graft ``new``: ``/blog/{pk}/`` (takes Django's detail page), ``/about/``
(answers 404: GET falls through to Django), ``/items/{item_id}`` (``read_item``,
new), ``POST /blog/{pk}/`` (counts its calls).  Each side links to the other.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from fastapi import FastAPI, HTTPException
from wsgihub_starlette import HubURL

import wsgihub

POSTS: list[int] = []


def home(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"app": "django", "page": "home", "new_item": wsgihub.url_for("new:read_item", item_id=4)})


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return JsonResponse({"app": "django", "page": "detail", "pk": pk})


def about(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"app": "django", "page": "about", "script_name": request.META["SCRIPT_NAME"]})


urlpatterns = [
    path("", home, name="home"),
    path("blog/<int:pk>/", detail, name="blog-detail"),
    path("about/", about, name="about"),
]

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()

from django.core.wsgi import get_wsgi_application  # after the settings


def make_new() -> FastAPI:
    new = FastAPI()

    @new.get("/blog/{pk}/", name="post")
    async def post(pk: int, hub_url: HubURL) -> dict[str, Any]:
        return {"app": "fastapi", "pk": pk, "django_home": hub_url("legacy:home"), "about": hub_url("legacy:about")}

    @new.post("/blog/{pk}/", name="post_comment")
    async def post_comment(pk: int) -> dict[str, Any]:
        POSTS.append(pk)
        raise HTTPException(404)  # a POST's 404 is final: Django never sees it

    @new.get("/about/", name="about")
    async def not_moved_yet() -> None:
        raise HTTPException(404)

    @new.get("/items/{item_id}", name="read_item")
    async def read_item(item_id: int) -> dict[str, Any]:
        return {"app": "fastapi", "item": item_id, "posts": POSTS}

    return new


def site() -> wsgihub.Hub:
    hub = wsgihub.Hub()
    hub.mount("/", get_wsgi_application(), name="legacy")
    hub.graft(make_new(), over="legacy", name="new")
    return hub
