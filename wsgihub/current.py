"""Which hub request is running here: ``find_hub``, ``current_hub``, ``url_for``.

Code deep inside a mounted app (a Django view, a Jinja template) must find
the hub and the request it serves without being handed either.  A plain
:class:`~contextvars.ContextVar` set and reset per request does that, but
costs two context copies per request (about 0.2 µs, a third of the
hub's whole dispatch).  So the variable holds a mutable :class:`Slot`
instead, created once per context (a server thread, a greenlet), and a
request only swaps the slot's ``request`` and puts the previous value back:

* nested hubs and :meth:`Hub.request_context` inside a request restore the
  outer request when they finish;
* a context copied from a request's context while the request runs
  (asgiref's ``async_to_sync`` thread under a Django or Flask async view,
  ``asyncio.to_thread``) shares the slot, so it sees the request, as it
  would with a plain context variable;
* a new thread or greenlet starts with an empty context, so it gets its own
  slot and sees no request;
* only the thread that made a slot swaps its request: a thread serving a
  request in a context copied from another thread's (WSGI-in-ASGI bridges run
  each request in a copy of the event loop's context) gets a slot of its own
  first, so concurrent requests never share one.

The one difference from a plain context variable: a copied context that
outlives its request sees whatever its originating context serves at that
moment (often nothing), not the finished request.
"""

from __future__ import annotations

from contextvars import ContextVar
from threading import get_ident
from typing import TYPE_CHECKING, Any

from .errors import WsgihubError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .hub import Hub
    from .types import Environ

__all__ = ["Request", "Slot", "current_hub", "find_hub", "get", "slot", "url_for"]

#: (hub, environ, root): the hub, the request's environ as the hub saw it,
#: and the ``SCRIPT_NAME`` in front of the hub.
Request = tuple["Hub", "Environ", str]


class Slot:
    """The request one thread serves in one context (``None`` between requests).

    ``owner`` is the thread that may swap ``request``: a copied context run
    in another thread reads the slot but gets its own before it serves a
    request itself.
    """

    __slots__ = ("owner", "request")

    def __init__(self) -> None:
        self.owner = get_ident()
        self.request: Request | None = None


_slot: ContextVar[Slot] = ContextVar("wsgihub_request_slot")

def slot() -> Slot:
    """The slot this thread may swap in this context, created when needed."""
    try:
        found = _slot.get()
    except LookupError:
        pass
    else:
        if found.owner == get_ident():
            return found
    new = Slot()
    _slot.set(new)
    return new


def get() -> Request | None:
    """The request a hub serves in this context, or ``None``."""
    try:
        return _slot.get().request
    except LookupError:
        return None


def find_hub(environ: Mapping[str, object] | None = None) -> Hub | None:
    """The hub that serves a request, or ``None``: the one public way to ask.

    With an ``environ``, the hub that passed it on (``environ["wsgihub.hub"]``);
    without one, or when that environ did not come through a hub, the hub
    serving the current request in this thread or task.  Adapters and
    framework helpers (template globals, request methods) use it instead
    of reading the environ key or the request slot themselves.
    """
    if environ is not None:
        hub = environ.get("wsgihub.hub")
        if hub is not None:
            return hub  # type: ignore[return-value]
    current = get()
    return current[0] if current is not None else None


def current_hub() -> Hub | None:
    """The hub serving the current request (thread or task), or ``None``.

    Same as :func:`find_hub` without an environ.
    """
    current = get()
    return current[0] if current is not None else None


def url_for(endpoint: str, /, **values: Any) -> str:
    """``hub.url_for`` for the hub serving the current request.

    Works from any mounted app's code while it handles a request the hub
    passed to it; outside such a request it raises :class:`~wsgihub.errors.WsgihubError`.
    """
    current = get()
    if current is None:
        raise WsgihubError(
            f"wsgihub.url_for({endpoint!r}) called outside a request served by a hub; "
            "call hub.url_for() on the hub instead"
        )
    return current[0].url_for(endpoint, **values)
