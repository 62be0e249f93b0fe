"""Grafts: apps that share the URL space of the mount beneath them (``over``).

::

    hub.mount("/", legacy_django_app, name="legacy")
    hub.graft(reports_flask_app, over="legacy", name="reports")

A graft hangs on a peg of its own whose ``over`` is the mount beneath it
and whose prefix is that mount's.  A request for that prefix goes to the
first graft whose adapter matches its path and method
(:meth:`wsgihub.Adapter.match`), else to the app beneath, and no app runs
twice.  A graft whose adapter cannot tell (``match`` returns ``None``: a
plain WSGI app, an adapter without routing) is tried in a *cascade*: it
runs on a copy of the request and its 404 falls through to the next one
(:func:`wsgihub.compose.cascade`).

This module holds what grafting adds to the board: the rules for hanging a
graft (:func:`check_over`, :func:`default_name`) and the dispatch of a
request among a mount and its grafts (:func:`dispatcher`).  The board keeps
grafts in ``peg.grafts`` (on the mount beneath) and ``peg.over`` (on the
graft); :mod:`wsgihub.checks` reports the routes each graft takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from .compose import cascade
from .errors import MountError

if TYPE_CHECKING:
    from .board import Peg
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["check_over", "default_name", "dispatch", "dispatcher"]


def check_over(over: Peg, name: str | None) -> None:
    """Refuse to graft onto a graft (:class:`~wsgihub.errors.MountError` naming both)."""
    if over.over is not None:
        raise MountError(
            f"graft {name!r}: cannot graft onto graft {over.name!r}; graft onto {over.over.name!r}", name
        )


def default_name(over: Peg) -> str:
    """The name a graft gets when none is given: ``legacy.graft1``, ``legacy.graft2``..."""
    return f"{over.name}.graft{len(over.grafts) + 1}"


def dispatch(over: Peg, grafts: tuple[Peg, ...], environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Send a request to the graft that has its route, else to the app beneath."""
    path = environ.get("PATH_INFO") or "/"
    method = environ.get("REQUEST_METHOD", "GET")
    undecided: list[WSGIApplication] = []
    for graft in grafts:
        adapter = graft.adapter
        verdict = adapter.match(path, method) if adapter is not None else None
        if verdict:
            environ["pegboard.peg"] = graft
            return graft.app(environ, start_response)
        if verdict is None:
            undecided.append(graft.app)
    if undecided:
        return cascade([*undecided, over.app], environ, start_response)
    return over.app(environ, start_response)


def dispatcher(over: Peg) -> WSGIApplication:
    """The processing callable of a mount with grafts (its own app if it has none)."""
    if not over.grafts:
        return over.app
    return partial(dispatch, over, tuple(over.grafts))
