"""The new Flask app, grafted over the legacy Django site.

::

    hub.mount("/", legacy_django_app, name="legacy")
    hub.graft(create_app(), over="legacy", name="new")

A request whose path and method match one of these routes is served by
Flask; every other request still goes to Django.  Moving a page to Flask is
adding its route here: the URL stays, links to it keep working.

Templates link back into Django with the Jinja global ``hub_url()`` (given
by the Flask adapter); views build URLs with :func:`wsgihub.url_for` and read
the Django login with ``hub.request_context("legacy", request.environ)``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, redirect, render_template, request

import wsgihub

from . import legacy_data

__all__ = ["create_app"]


def create_app() -> Flask:
    """The Flask app (endpoints ``reports``, ``latest``, ``user``, ``whoami``)."""
    # No static route: /static/ still belongs to Django (a graft takes every
    # URL its routes match).
    app = Flask(__name__, static_folder=None)
    # Flask's default "session" cookie would collide with a Pyramid session
    # cookie on Path=/ (wsgihub check reports that); this app keeps its own name.
    app.config["SESSION_COOKIE_NAME"] = "graftsite_new_session"

    @app.get("/reports/")
    def reports() -> str:
        """The first page moved off Django: posts per author, read from the legacy database."""
        return render_template(
            "new/reports.html", authors=legacy_data.authors(), posts=legacy_data.posts()
        )

    @app.get("/reports/latest")
    def latest() -> Any:
        """Redirect across the seam: to the Django page of the newest post."""
        post = legacy_data.latest_post()
        if post is None:
            return redirect(wsgihub.url_for("legacy:blog:index"))
        return redirect(wsgihub.url_for("legacy:blog:detail", pk=post["pk"]))

    @app.get("/users/<int:uid>")
    def user(uid: int) -> str:
        """The author page, moved from Django (whose /blog/<pk>/author/ redirects here)."""
        author = legacy_data.user(uid)
        if author is None:
            abort(404)
        return render_template("new/user.html", author=author, posts=legacy_data.posts(author=uid))

    @app.get("/whoami")
    def whoami() -> Any:
        """Login across the seam: the user Django's session and auth middleware see.

        The hub runs the Django side of this request (sessions, auth
        middleware) on a copy of Flask's environ; ``request.user`` is then
        Django's user.  Anonymous visitors go to Django's login page and come
        back here.
        """
        hub = wsgihub.current_hub()
        assert hub is not None, "served outside a hub"
        with hub.request_context("legacy", request.environ) as django_request:
            user = django_request.user
            if not user.is_authenticated:
                here = request.script_root + request.path
                return redirect(wsgihub.url_for("legacy:login") + "?" + urlencode({"next": here}))
            me = {
                "username": user.get_username(),
                "name": user.get_full_name() or user.get_username(),
                "pk": user.pk,
                "is_staff": user.is_staff,
            }
        return render_template("new/whoami.html", me=me, posts=legacy_data.posts(author=me["pk"]))

    @app.teardown_request
    def close_legacy_connections(exc: BaseException | None) -> None:
        legacy_data.close_connections()

    return app
