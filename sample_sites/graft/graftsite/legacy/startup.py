"""Database preparation when the site starts: ``migrate``, then the seed data.

:class:`PrepareDatabase` is the first entry of ``MIDDLEWARE``.  Django
builds its middleware chain once, when the WSGI handler is created, i.e. when
the site is loaded (``wsgihub serve``, ``wsgihub routes``, a test building the
hub): its ``__init__`` prepares the database and raises
:class:`~django.core.exceptions.MiddlewareNotUsed`, so it never sees a request.
That works however the project is loaded (the adapter's PasteDeploy factory,
``get_wsgi_application()``) without touching the database in
``AppConfig.ready()``, which Django discourages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import MiddlewareNotUsed

__all__ = ["PrepareDatabase", "prepare_database", "seed"]

_lock = threading.Lock()
_done = False

DEMO_USER = ("demo", "demo")

POSTS = [
    (
        "ada",
        "Why we are not rewriting",
        (
            "The blog has served us for ten years. Instead of a rewrite, new pages are written "
            "in Flask and grafted onto this site one route at a time."
        ),
    ),
    (
        "demo",
        "The reports moved",
        (
            "The reports page is the first route served by the new Flask app. Links to it did not "
            "change: it answers at the same URL."
        ),
    ),
    (
        "ada",
        "Links across the seam",
        (
            "Django templates link to Flask pages with {% hub_url %}, Flask templates link back "
            "with hub_url(), and the API hands out URLs of both."
        ),
    ),
    (
        "demo",
        "One login for both",
        (
            "Log in on the Django login page; the Flask pages read the same user through "
            "hub.request_context('legacy', ...)."
        ),
    ),
]


class PrepareDatabase:
    """Migrate and seed once when Django builds its middleware, then step aside."""

    def __init__(self, get_response: Callable[..., Any]) -> None:
        prepare_database()
        raise MiddlewareNotUsed("graftsite: database ready")


def prepare_database() -> None:
    """``migrate`` and :func:`seed`, once per process."""
    global _done
    with _lock:
        if _done:
            return
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        seed()
        _done = True


def seed() -> None:
    """Create the demo users and a few posts, unless they exist."""
    from django.contrib.auth import get_user_model

    from .blog.models import Post

    User = get_user_model()
    demo, created = User.objects.get_or_create(
        username=DEMO_USER[0],
        defaults={"first_name": "Dana", "last_name": "Demo", "email": "demo@example.com"},
    )
    if created:
        demo.set_password(DEMO_USER[1])
    # The demo user may open the admin (/admin/): a sample site shows everything.
    if created or not (demo.is_staff and demo.is_superuser):
        demo.is_staff = demo.is_superuser = True
        demo.save()
    ada, created = User.objects.get_or_create(
        username="ada",
        defaults={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    )
    if created:
        ada.set_unusable_password()
        ada.save()
    if Post.objects.exists():
        return
    authors = {"demo": demo, "ada": ada}
    for username, title, body in POSTS:
        Post.objects.create(author=authors[username], title=title, body=body)
