"""The one place the new app reads the legacy database.

During a graft both apps share one database: Flask reads the Django models
through the ORM (Django is set up in this process, since the legacy project
is mounted).  Everything goes out as plain dicts so the templates do not
depend on Django.  When the last page has moved, only this module changes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["authors", "close_connections", "latest_post", "posts", "user"]


def _post(post: Any) -> dict[str, Any]:
    return {
        "pk": post.pk,
        "title": post.title,
        "author_pk": post.author_id,
        "author": post.author.get_full_name() or post.author.get_username(),
        "created": post.created,
    }


def posts(author: int | None = None) -> list[dict[str, Any]]:
    from graftsite.legacy.blog.models import Post

    found = Post.objects.select_related("author")
    if author is not None:
        found = found.filter(author_id=author)
    return [_post(p) for p in found]


def latest_post() -> dict[str, Any] | None:
    from graftsite.legacy.blog.models import Post

    post = Post.objects.select_related("author").first()
    return _post(post) if post is not None else None


def authors() -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    User = get_user_model()
    found = (
        User.objects.annotate(n_posts=Count("posts"))
        .filter(n_posts__gt=0)
        .order_by("-n_posts", "username")
    )
    return [
        {"pk": u.pk, "name": u.get_full_name() or u.get_username(), "posts": u.n_posts}
        for u in found
    ]


def user(uid: int) -> dict[str, Any] | None:
    from django.contrib.auth import get_user_model

    u = get_user_model().objects.filter(pk=uid).first()
    if u is None:
        return None
    return {"pk": u.pk, "username": u.get_username(), "name": u.get_full_name() or u.get_username()}


def close_connections() -> None:
    """End of a Flask request: what Django does at the end of its own requests."""
    from django.db import close_old_connections

    close_old_connections()
