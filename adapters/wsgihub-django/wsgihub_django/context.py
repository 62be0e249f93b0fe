"""Running code inside Django from anywhere: script prefix and request scopes.

Two Django traps shape this module:

- ``reverse()`` reads the script prefix from a per-thread / per-task local
  that Django's ``WSGIHandler`` sets and never resets.  Building a URL for
  a mount therefore sets the prefix only inside a copied
  :mod:`contextvars` context (:func:`reverse_at`), and a request scope
  sets it and restores the previous one in ``try/finally``.
- Firing ``request_started`` / ``request_finished`` (which run
  ``close_old_connections``) from a nested scope closes the connection
  under the outer ``transaction.atomic()``.  :func:`django_request` does
  that lifecycle work only in the outermost Django scope of the thread or
  task: not inside a request Django is serving, not inside another
  :func:`django_request`, not inside an open transaction.
"""

from __future__ import annotations

import contextvars
import io
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.db import connections
from django.urls import get_script_prefix, reverse, set_script_prefix

__all__ = [
    "close_connections",
    "django_request",
    "in_django_scope",
    "reverse_at",
    "track_django_requests",
]

#: Nesting depth of :func:`django_request` scopes in this thread / task.
_depth: ContextVar[int] = ContextVar("wsgihub_django_depth", default=0)
#: True between Django's request_started and request_finished in this thread / task.
_serving: ContextVar[bool] = ContextVar("wsgihub_django_serving", default=False)

_TRACKER_UID: Final = "wsgihub_django.context.track"


def _reverse_with_prefix(
    prefix: str, urlconf: str, endpoint: str, kwargs: Mapping[str, Any], query: Any = None
) -> str:
    set_script_prefix(prefix)
    url: str
    if query is None:
        url = reverse(endpoint, urlconf, kwargs=kwargs)
    else:
        url = reverse(endpoint, urlconf, kwargs=kwargs, query=query)
    return url


def _reverse_restoring(
    prefix: str, urlconf: str, endpoint: str, kwargs: Mapping[str, Any], query: Any = None
) -> str:
    previous = get_script_prefix()
    try:
        return _reverse_with_prefix(prefix, urlconf, endpoint, kwargs, query)
    finally:
        set_script_prefix(previous)


def _copied_context_isolates() -> bool:
    """Whether Django's script prefix lives in contextvars (asgiref's ``Local`` does)."""
    before = get_script_prefix()
    contextvars.copy_context().run(set_script_prefix, before + "wsgihub-probe/")
    isolated: bool = get_script_prefix() == before
    if not isolated:
        set_script_prefix(before)
    return isolated


if _copied_context_isolates():

    def reverse_at(
        prefix: str, urlconf: str, endpoint: str, kwargs: Mapping[str, Any], query: Any = None
    ) -> str:
        """``reverse()`` in ``urlconf`` as if mounted at ``prefix``; the caller's prefix is untouched.

        The prefix is set in a copy of the current context, so it can never
        leak into the caller's thread or task, even if ``reverse`` raises.
        """
        return contextvars.copy_context().run(
            _reverse_with_prefix, prefix, urlconf, endpoint, kwargs, query
        )

else:  # pragma: no cover - an asgiref whose Local does not live in contextvars
    reverse_at = _reverse_restoring


def in_django_scope() -> bool:
    """True inside a request Django serves or a :func:`django_request` scope (this thread/task)."""
    return _serving.get() or _depth.get() > 0


def _on_request_started(sender: Any, **kwargs: Any) -> None:
    _serving.set(True)


def _on_request_finished(sender: Any, **kwargs: Any) -> None:
    _serving.set(False)


def track_django_requests() -> None:
    """Follow Django's request signals so nested scopes know they are nested (idempotent)."""
    signals.request_started.connect(_on_request_started, weak=False, dispatch_uid=_TRACKER_UID)
    signals.request_finished.connect(_on_request_finished, weak=False, dispatch_uid=_TRACKER_UID)


def _in_transaction() -> bool:
    return any(conn.in_atomic_block for conn in connections.all(initialized_only=True))


@contextmanager
def django_request(
    environ: dict[str, Any],
    prepare: Callable[[WSGIRequest], None] = lambda request: None,
    sender: type = WSGIHandler,
) -> Iterator[WSGIRequest]:
    """A real ``WSGIRequest`` for ``environ`` with Django set up as when it serves it.

    Sets the script prefix the way ``WSGIHandler`` does (``SCRIPT_NAME`` or
    ``FORCE_SCRIPT_NAME``) and restores the caller's on exit; runs
    ``prepare(request)`` (sessions, authentication).  Only the outermost
    scope sends ``request_started`` / ``request_finished``, so a scope
    opened inside a Django view or transaction never closes its connection.
    """
    environ = _complete(environ)
    outermost = not in_django_scope() and not _in_transaction()
    depth = _depth.set(_depth.get() + 1)
    previous = get_script_prefix()
    try:
        set_script_prefix(get_script_name(environ))
        if outermost:
            signals.request_started.send(sender=sender, environ=environ)
        try:
            request = WSGIRequest(environ)
            prepare(request)
            yield request
        finally:
            if outermost:
                signals.request_finished.send(sender=sender)
    finally:
        set_script_prefix(previous)
        _depth.reset(depth)


def _complete(environ: dict[str, Any]) -> dict[str, Any]:
    """``environ`` with the keys Django needs that a hand-made environ may lack."""
    if "REQUEST_METHOD" in environ and "wsgi.input" in environ and "SERVER_NAME" in environ:
        return environ
    scheme = environ.get("wsgi.url_scheme", "http")
    host, _, port = str(environ.get("HTTP_HOST") or "localhost").partition(":")
    return {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        **environ,
    }


def close_connections() -> None:
    """Close this thread's database connections, except those inside a transaction."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()
