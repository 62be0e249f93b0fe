"""The hooks a wsgihub plugin may implement.

A plugin is any module or object with functions named after these specs and
marked with :data:`hookimpl`; it is found through the ``wsgihub`` entry point
group (see :mod:`wsgihub.plugins`).  Example, a plugin that notices every
mount's arrival on the partyline::

    from wsgihub import hookimpl

    @hookimpl
    def wsgihub_invite(hub, peg, operator):
        operator.connect("ping", lambda payload: f"pong from {peg.name}")

Every hook is called with keyword arguments; an implementation may accept
any subset of them.  Hooks marked *first result* stop at the first
implementation that returns something other than ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .adapter import Adapter
    from .board import Peg
    from .hub import Hub
    from .partyline import Partyline, PartylineOperator
    from .types import WSGIApplication

__all__ = ["PROJECT", "hookimpl", "hookspec"]

#: The pluggy project name: the entry point group and the marker name.
PROJECT = "wsgihub"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def wsgihub_adapter(
    app: WSGIApplication, layers: Sequence[object], framework: str | None
) -> Adapter | None:
    """Choose the adapter for an application that is being mounted.

    Called once per ``hub.mount()`` / ``hub.graft()``.  ``app`` is the WSGI
    callable as mounted; ``layers`` is ``app`` followed by every object found
    inside it by looking through middleware (see :func:`wsgihub.adapter.layers`
    and :func:`wsgihub_unwrap`), outermost first; ``framework`` is the name the
    caller forced with ``mount(..., framework="flask")`` or ``None``.

    Return an :class:`wsgihub.adapter.Adapter` for the app, or ``None`` when
    the app is not of your framework (or ``framework`` names another one).
    First result wins; generic adapters should be ``trylast``.
    """


@hookspec
def wsgihub_unwrap(obj: object) -> Iterable[object] | None:
    """Teach the hub to see through unusual middleware.

    Called for every object met while looking through an application that is
    being mounted.  Return the objects ``obj`` wraps (the next layers inward),
    or ``None`` when ``obj`` is not a wrapper you know.  The well-known
    attributes (``__wrapped__``, ``.app``, ``.application``, ``.wsgi``,
    ``._app``, a bound method's ``__self__``, ``functools.partial.func``) are
    followed without any plugin.  All results are used.
    """


@hookspec(firstresult=True)
def wsgihub_submounts(
    app: WSGIApplication, layers: Sequence[object]
) -> tuple[WSGIApplication, Mapping[str, WSGIApplication]] | None:
    """Read a path dispatcher as more mounts.

    Called for every application that is being mounted.  Return ``(root_app,
    {"/sub": sub_app, ...})`` when ``app`` is a dispatcher (Werkzeug's
    ``DispatcherMiddleware``, Paste's ``URLMap``, ...): the hub mounts
    ``root_app`` at the prefix and every sub app below it as a child peg.
    Return ``None`` otherwise.  First result wins.
    """


@hookspec
def wsgihub_invite(hub: Hub, peg: Peg, operator: PartylineOperator) -> None:
    """An application joins the partyline.

    Called once when ``hub.mount()`` / ``hub.graft()`` has hung the app on
    ``peg``, before ``mount()`` returns.  ``operator`` is the app's own
    partyline operator: handlers connected through it answer for this app
    and are never asked by it.  Return value ignored.
    """


@hookspec
def wsgihub_connect(
    partyline: Partyline, service: str, handler: Any, participant: str | None
) -> None:
    """A handler joined ``service`` on ``partyline``.

    Called after every successful ``connect``; ``participant`` is the name of
    the operator that connected it (``None`` for anonymous connections).
    Observe only; the return value is ignored.
    """


@hookspec
def wsgihub_ask_around(
    partyline: Partyline, service: str, payload: Any, asker: str | None
) -> Iterable[Any] | None:
    """Somebody asks around on ``partyline``.

    Called once per ``ask_around`` after the connected handlers answered.
    Observe, or answer: the items of every non-``None`` result are appended
    to the answers, in plugin call order.  ``asker`` is the asking
    participant's name, or ``None``.
    """


@hookspec
def wsgihub_start(hub: Hub) -> None:
    """Called when the hub's bus starts (STARTING), after every peg was set up and
    every adapter started.  Return value ignored."""


@hookspec
def wsgihub_stop(hub: Hub) -> None:
    """Called when the hub's bus stops (STOPPING), before the adapters stop and the
    pegs are torn down.  Return value ignored."""


@hookspec
def wsgihub_graceful(hub: Hub) -> None:
    """Called when the hub's bus publishes ``graceful`` (reload configuration,
    reopen logs).  Return value ignored."""


@hookspec
def wsgihub_exit(hub: Hub) -> None:
    """Called once when the hub's bus exits (EXITING), after it stopped; the
    process is about to end.  Return value ignored."""
