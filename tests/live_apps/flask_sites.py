"""Two Flask apps that link to each other through the hub (needs wsgihub-flask)."""

from __future__ import annotations

import os

import flask

import wsgihub

shop = flask.Flask("shop")
blog = flask.Flask("blog")


@shop.route("/item/<int:item_id>")
def item(item_id: int) -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "item": item_id,
        "post_url": wsgihub.url_for("blog:post", slug="hello"),
    }


@blog.route("/post/<slug>")
def post(slug: str) -> dict[str, object]:
    return {"pid": os.getpid(), "slug": slug, "item_url": wsgihub.url_for("shop:item", item_id=7)}


def site() -> wsgihub.Hub:
    """``/shop`` and ``/blog``, each building URLs into the other."""
    hub = wsgihub.Hub()
    hub.mount("/shop", shop)
    hub.mount("/blog", blog)
    return hub
