"""Several Flask apps grafted over one mount: each takes its own exact match from the hub, and sees what it would alone.

With one graft over a mount the hub hands the graft's router answer to the
app (:data:`wsgihub.grafts.MATCH_KEY`); with several, each graft that runs
gets its own router's answer, for it alone: a GET whose 404 falls through
to the next graft or the app beneath carries no other graft's answer, and
an app only ever takes an answer of its own map's current shortcut.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import flask
import pytest

import wsgihub
from wsgihub.grafts import MATCH_KEY
from wsgihub.testing import call

PATHS = [
    "/reports/3",
    "/reports/03",
    "/orders/7",
    "/orders/x",
    "/reports/3/",
    "/orders-lines/7/2",
    "/reports-lines/1/x",
    "/gone/1",
    "/",
]
METHODS = ["GET", "HEAD", "POST"]


def app(name: str, first: str, seen: list[Any]) -> flask.Flask:
    """``/<first>/<int:pk>`` (GET and POST) and ``/<first>-lines/<int:pk>/<int:n>``; views record what they see."""
    made = flask.Flask(f"several_{name}", static_folder=None)

    def record(**values: Any) -> str:
        seen.append(
            (
                flask.request.method,
                flask.request.path,
                flask.request.url_rule.rule if flask.request.url_rule else None,
                dict(flask.request.view_args or {}),
                MATCH_KEY in flask.request.environ,
            )
        )
        flask.request.view_args.clear()  # a view may change its values: the next request gets its own
        return f"{name} {sorted(values.items())}"

    made.add_url_rule(f"/{first}/<int:pk>", f"{first}_one", record, methods=["GET", "POST"])
    made.add_url_rule(f"/{first}-lines/<int:pk>/<int:n>", f"{first}_line", record)
    return made


def beneath(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"beneath"]


@pytest.mark.parametrize("fall_through", [True, False], ids=["fall-through", "no-fall-through"])
def test_each_graft_sees_what_it_sees_alone(
    make_hub: Callable[..., wsgihub.Hub], fall_through: bool
) -> None:
    seen_alone: dict[str, list[Any]] = {"reports": [], "orders": []}
    alone = {first: make_hub() for first in seen_alone}
    for first, hub in alone.items():
        hub.mount("/", app(first, first, seen_alone[first]), name=first)
    seen: dict[str, list[Any]] = {"reports": [], "orders": []}
    hub = make_hub()
    hub.mount("/", beneath, name="legacy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wsgihub.MountWarning)
        for first, entries in seen.items():
            hub.graft(
                app(first, first, entries), over="legacy", name=first, fall_through=fall_through
            )
    for _ in range(2):  # the second time the gates' kept answers are handed
        for path in PATHS:
            for method in METHODS:
                got = call(hub, path, method=method)
                owner = path.split("/")[1].removesuffix("-lines")
                own = call(alone[owner], path, method=method) if owner in alone else None
                if own is None or own.code in (
                    404,
                    405,
                ):  # not the graft's: the app beneath answers
                    assert got.text == "beneath", (path, method)
                    continue
                expected = (own.status, own.header("Location"), own.text)
                assert (got.status, got.header("Location"), got.text) == expected, (path, method)
    for first, entries in seen.items():
        assert [entry[:4] for entry in entries] == [entry[:4] for entry in seen_alone[first]]
        assert entries, first
        # every request a graft ran was handed its own router's match (one rule per first segment here)
        assert all(handed for *_, handed in entries), first
