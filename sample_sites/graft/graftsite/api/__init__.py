"""A small Pyramid JSON API, mounted beside the legacy site at ``/api``.

Every answer carries the URLs of the other apps' pages, built with
``request.hub_url`` (added by ``config.include("wsgihub_pyramid")``): the
API never hard-codes where Django or Flask serve a page.  Its own URLs come
from Pyramid's ``request.route_url`` as usual; both are absolute here
(``_external=True``), on a host from the hub's ``trusted_hosts``.

Routes: ``api:index`` (``/api/``), ``api:posts`` (``/api/posts``),
``api:post`` (``/api/posts/{pk}``).
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router

__all__ = ["main", "make_api"]


def index(request: Request) -> dict[str, Any]:
    return {
        "name": "graftsite API",
        "links": {
            "self": request.route_url("index"),
            "posts": request.route_url("posts"),
            "home": request.hub_url("legacy:home", _external=True),
            "blog": request.hub_url("legacy:blog:index", _external=True),
            "login": request.hub_url("legacy:login", _external=True),
            "reports": request.hub_url("new:reports", _external=True),
            "whoami": request.hub_url("new:whoami", _external=True),
        },
    }


def _post(request: Request, post: Any) -> dict[str, Any]:
    return {
        "id": post.pk,
        "title": post.title,
        "author": post.author.get_full_name() or post.author.get_username(),
        "links": {
            "self": request.route_url("post", pk=post.pk),
            "html": request.hub_url("legacy:blog:detail", pk=post.pk, _external=True),
            "author": request.hub_url("new:user", uid=post.author_id, _external=True),
        },
    }


def posts(request: Request) -> dict[str, Any]:
    from graftsite.legacy.blog.models import Post

    return {"posts": [_post(request, p) for p in Post.objects.select_related("author")]}


def post(request: Request) -> dict[str, Any]:
    from graftsite.legacy.blog.models import Post

    found = Post.objects.select_related("author").filter(pk=int(request.matchdict["pk"])).first()
    if found is None:
        request.response.status = 404
        return {"error": f"no post {request.matchdict['pk']}"}
    return _post(request, found)


def _close_connections(event: Any) -> None:
    """The API reads the legacy database too; end its requests as Django would."""
    from django.db import close_old_connections

    event.request.add_finished_callback(lambda request: close_old_connections())


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Router:
    """The Pyramid application (the paste ``main`` convention)."""
    from pyramid.events import NewRequest

    with Configurator(settings=settings) as config:
        config.include("wsgihub_pyramid")
        config.add_route("index", "/")
        config.add_route("posts", "/posts")
        config.add_route("post", r"/posts/{pk:\d+}")
        config.add_view(index, route_name="index", renderer="json", request_method="GET")
        config.add_view(posts, route_name="posts", renderer="json", request_method="GET")
        config.add_view(post, route_name="post", renderer="json", request_method="GET")
        config.add_subscriber(_close_connections, NewRequest)
    return config.make_wsgi_app()


def make_api() -> Router:
    """The API with default settings (for :mod:`graftsite.site`)."""
    return main({})
