"""Doubled slashes under a Flask graft: the graft takes exactly what the app mounted alone would answer.

Werkzeug strips the leading slashes of a path (``//reports/1`` is its
``/reports/1``: 200) and redirects one with slashes doubled further in
(``/reports//1``: 308 to ``/reports/1``).  A graft over another app must
take those requests too, not hand them to the app beneath because their
first segment (empty) starts no route of the graft.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import flask
import pytest

import wsgihub
from wsgihub.testing import call


def reports() -> flask.Flask:
    app = flask.Flask("graft_slashes", static_folder=None)

    @app.get("/reports/<int:id>")
    def report(id: int) -> str:
        return f"report {id}"

    return app


def beneath(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"beneath"]


def grafted(make_hub: Callable[..., wsgihub.Hub]) -> wsgihub.Hub:
    hub = make_hub()
    hub.mount("/", beneath, name="legacy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wsgihub.MountWarning)
        hub.graft(reports(), over="legacy", name="new")
    return hub


@pytest.mark.parametrize(
    "path",
    [
        "//reports/1",
        "///reports/1",
        "/reports//1",
        "//reports//1",
        "/reports/1",
        "//",
        "/",
        "//reports/x",
        "//elsewhere/1",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_the_graft_takes_what_flask_alone_would_answer(
    make_hub: Callable[..., wsgihub.Hub], path: str, method: str
) -> None:
    alone = make_hub()
    alone.mount("/", reports(), name="new")
    hub = grafted(make_hub)
    own = call(alone, path, method)
    got = call(hub, path, method)
    if own.code in (404, 405):  # Flask has nothing for it: the app beneath answers
        assert got.text == "beneath", (path, method, got.status)
    else:
        assert (got.status, got.header("Location"), got.text) == (own.status, own.header("Location"), own.text)


def test_a_doubled_leading_slash_is_the_grafts_page(make_hub: Callable[..., wsgihub.Hub]) -> None:
    hub = grafted(make_hub)
    assert call(hub, "//reports/1").text == "report 1"  # was the app beneath's answer
    moved = call(hub, "//reports//1")
    assert (moved.code, moved.header("Location")) == (308, "http://localhost/reports/1")
    assert call(hub, "//elsewhere/1").text == "beneath"
    assert call(hub, "/").text == "beneath"
