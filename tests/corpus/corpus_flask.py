"""A Flask app with a wsgi_party invite route, served by the corpus's Flask rows.

Issue 8 §2: with the app mounted at ``/old`` and ``invite_path="/__invite__/"``,
no outside request may reach the invite view, however the path is spelled.
"""

from __future__ import annotations

import flask

import wsgihub

old = flask.Flask("corpus_old")


@old.route("/__invite__/")
def invite() -> str:
    if "partyline" in flask.request.environ:
        return "joined"
    return "INVITE-VIEW-RAN"


@old.route("/")
def home() -> str:
    return "old home"


@old.route("/gone")
def gone() -> str:
    flask.abort(404)


@old.route("/ext")
def ext() -> str:
    """An absolute URL built through the hub (an untrusted Host must give 400, not 500)."""
    return wsgihub.url_for("old:home", _external=True)


def site() -> wsgihub.Hub:
    """``/old``: the Flask app, invited at ``/__invite__/``; ``/a``: an echo app (health)."""
    import corpus_site

    hub = wsgihub.Hub(trusted_hosts=["example.com", ".example.org", "[::1]"])
    hub.mount("/old", old, invite_path="/__invite__/")
    hub.mount("/a", corpus_site.echo("a"))
    return hub
