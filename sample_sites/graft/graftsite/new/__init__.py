"""The new Flask app, grafted over the legacy Django site.

::

    hub.mount("/", legacy_django_app, name="legacy")
    hub.graft(create_app(), over="legacy", name="new")

A request whose path and method match one of these routes is served by
Flask; every other request still goes to Django.  Moving a page to Flask is
adding its route here: the URL stays, links to it keep working.

Templates link back into Django with the Jinja global ``hub_url()`` and show
the Django login with ``hub_user`` (both given by the Flask adapter); views
build URLs with :func:`wsgihub.url_for` / ``hub_url`` and read the login with
``wsgihub_flask.current_user``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, render_template, request
from wsgihub_flask import current_user, hub_url, logout_user

import wsgihub
from wsgihub.errors import UnknownEndpointError

from . import legacy_data

__all__ = ["create_app"]


def create_app() -> Flask:
    """The Flask app (endpoints ``reports``, ``latest``, ``user``, ``whoami``, ``logout``)."""
    # No static route: /static/ still belongs to Django (a graft takes every
    # URL its routes match).
    app = Flask(__name__, static_folder=None)
    # Flask's default "session" cookie would collide with a Pyramid session
    # cookie on Path=/ (wsgihub check reports that); this app keeps its own name.
    app.config["SESSION_COOKIE_NAME"] = "graftsite_new_session"

    @app.template_global()
    def legacy_static(path: str) -> str:
        """The URL of one of the legacy project's static files (its stylesheet, its icon).

        The Django mount serves them below its prefix (``site.ini``: ``static =
        insecure``) as the route ``legacy:django.contrib.staticfiles``.  The same
        project mounted where its absolute ``STATIC_URL`` is not inside the mount
        (a second prefix, as one test does) has no such route: then the link is
        ``STATIC_URL``'s, as Django's own ``{% static %}`` writes it.
        """
        try:
            return hub_url("legacy:django.contrib.staticfiles", path=path)
        except UnknownEndpointError:
            return "/static/" + path

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
        """Login across the seam: the user Django's session and auth say is logged in.

        ``current_user`` asks the hub, which asks the Django mount (its session
        and auth, with the session-hash check).  Anonymous visitors go to
        Django's login page and come back here.
        """
        if not current_user.is_authenticated:
            return redirect(hub_url("legacy:login", next=request.script_root + request.path))
        me = {
            "username": current_user.username,
            "name": current_user.name or current_user.username,
            "pk": int(current_user.id or 0),
            "is_staff": current_user.is_staff,
        }
        return render_template("new/whoami.html", me=me, posts=legacy_data.posts(author=me["pk"]))

    @app.post("/logout")
    def logout() -> Any:
        """Log out of the whole site from a Flask page: ends the Django session.

        Flask keeps no CSRF token, so a form posted from another site is
        refused by its ``Origin`` (browsers send it with every POST).
        """
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            abort(403)
        logout_user()
        return redirect(hub_url("legacy:home"))

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        """A page of the site, whose links keep the mount prefixes (the hub builds them)."""
        return render_template("new/404.html"), 404

    @app.teardown_request
    def close_legacy_connections(exc: BaseException | None) -> None:
        legacy_data.close_connections()

    return app
