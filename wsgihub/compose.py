"""Phases and response composition: what a request runs besides the app itself.

The board (:mod:`wsgihub.board`) finds the peg; this module decides what a
request for it runs.  Pegboard-aware components may take part in a
request and in the board's lifecycle through these hooks:

``__before__(environ, start_response)``
    on every component along the path, root first; a non-``None`` return
    value is the response and skips the rest (a guard that answers early).
``__call__(environ, start_response)``
    on the target, as any WSGI app.
``__compose__(environ, start_response)``
    target first, then up to the root, after processing.  The response so
    far is ``environ["pegboard.response"]`` (a :class:`PegResponse`);
    calling ``start_response`` replaces status and headers, returning an
    iterable replaces the body.
``cleanup(environ)``
    target first, then up to the root, when the response iterable is
    closed (also after a client disconnect or an exception).
``setup(peg)`` / ``teardown(peg)``
    lifecycle: :meth:`~wsgihub.board.Pegboard.setup` and
    :meth:`~wsgihub.board.Pegboard.teardown` call them from parents to
    children until the tree is traversed (the hub does on bus start/stop).

The seed's dunders ``__before__``/``__call__``/``__compose__`` are looked up
on any component.  The plain-named ``cleanup``, ``setup`` and ``teardown``
are looked up only on components that say they are pegboard-aware
(``__pegboard__ = True``, which :class:`Component` sets), so an app that
happens to have a ``setup`` method is never called by surprise; the older
spellings ``__cleanup__``, ``__setup__`` and ``__teardown__`` still work on
any component.

:func:`cascade` (try apps in order until one does not answer 404) is the
composition grafts fall back on; :class:`wsgihub.contrib.cascade.Cascade`
wraps it as an application.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .wsgi import close_body

if TYPE_CHECKING:
    from .types import Environ, ExcInfo, Headers, StartResponse, WSGIApplication

__all__ = [
    "SPOOL_MAX",
    "Component",
    "PegResponse",
    "cascade",
    "component_hook",
    "first_chunk",
    "phased",
    "status_code",
]

#: Bodies up to this size stay in memory while a cascade replays them.
SPOOL_MAX = 1024 * 1024

#: Plain hook names and the dunders they had before (still honoured).
_OLD_NAMES = {"cleanup": "__cleanup__", "setup": "__setup__", "teardown": "__teardown__"}


class Component:
    """Base class (or marker) of pegboard-aware components.

    Subclasses may define any of ``__before__``, ``__compose__``,
    ``cleanup(environ)``, ``setup(peg)`` and ``teardown(peg)``; the board
    calls only those that are defined.  Setting ``__pegboard__ = True`` on a
    class does the same without inheriting.
    """

    __pegboard__ = True


def component_hook(component: object, name: str) -> Callable[..., Any] | None:
    """``component``'s hook ``name`` (``__before__``, ``cleanup``, ``setup``...), or ``None``.

    Plain names are honoured only on pegboard-aware components; their old
    dunder spellings on any component.
    """
    if name in _OLD_NAMES:
        if getattr(component, "__pegboard__", False) is True:
            hook: Callable[..., Any] | None = getattr(component, name, None)
            if callable(hook):
                return hook
        name = _OLD_NAMES[name]
    found: Callable[..., Any] | None = getattr(component, name, None)
    return found if callable(found) else None


def _hooks(components: Iterable[object], name: str) -> tuple[Callable[..., Any], ...]:
    found = (component_hook(c, name) for c in components)
    return tuple(hook for hook in found if hook is not None)


class PegResponse:
    """The response being composed: status, headers and body so far."""

    __slots__ = ("body", "exc_info", "headers", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: Headers = []
        self.exc_info: ExcInfo | None = None
        self.body: Iterable[bytes] = ()

    def start_response(
        self, status: str, headers: Headers, exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        """Record (or replace) status and headers; ``write`` is not supported."""
        self.status, self.headers, self.exc_info = status, list(headers), exc_info
        return self._write

    @staticmethod
    def _write(data: bytes) -> object:
        raise NotImplementedError("write() is not supported by components that compose")

    def prime(self, body: Iterable[bytes]) -> Iterable[bytes]:
        """Make sure ``start_response`` was called, pulling a first chunk if needed (:func:`first_chunk`)."""
        return body if self.status is not None else first_chunk(body)

    @property
    def code(self) -> int:
        """The status code as an ``int`` (0 while no status is set)."""
        return status_code(self.status)


def first_chunk(body: Iterable[bytes]) -> Iterable[bytes]:
    """``body`` with its first chunk pulled (an app that starts its response lazily has started it).

    Returns the body to send: the first chunk chained before the rest.
    Whatever goes wrong (``iter()`` or the first ``next()`` raising), the
    body is closed before the error propagates, as PEP 3333 requires.
    """
    try:
        iterator = iter(body)
        first = next(iterator)
    except StopIteration:
        close_body(body)
        return []
    except BaseException:
        close_body(body)
        raise
    return _Chain(first, iterator, body)


def status_code(status: str | None) -> int:
    """``"404 Not Found"`` -> ``404``; 0 for ``None`` or a malformed status."""
    try:
        return int((status or "0").split(None, 1)[0])
    except ValueError:
        return 0


class _Chain:
    """A first chunk already pulled, then the rest of an iterable (closes it)."""

    def __init__(self, first: bytes, rest: Iterator[bytes], original: Iterable[bytes]) -> None:
        self.first, self.rest, self.original = first, rest, original

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        yield from self.rest

    def close(self) -> None:
        close_body(self.original)


class _Closing:
    """Wraps a response iterable; runs cleanups when the server closes it."""

    __slots__ = ("body", "cleanups", "environ")

    def __init__(self, body: Iterable[bytes], cleanups: tuple[Callable[..., Any], ...], environ: Environ) -> None:
        self.body, self.cleanups, self.environ = body, cleanups, environ

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close_body(self.body)
        finally:
            _run_cleanups(self.cleanups, self.environ)


def _run_cleanups(cleanups: tuple[Callable[..., Any], ...], environ: Environ) -> None:
    error: BaseException | None = None
    for cleanup in cleanups:
        try:
            cleanup(environ)
        except BaseException as exc:  # noqa: BLE001 - every cleanup runs; the first error is re-raised below
            error = error or exc
    if error is not None:
        raise error


def _run_phases(
    befores: tuple[Callable[..., Any], ...],
    target: WSGIApplication,
    composes: tuple[Callable[..., Any], ...],
    cleanups: tuple[Callable[..., Any], ...],
    environ: Environ,
    start_response: StartResponse,
) -> Iterable[bytes]:
    try:
        body: Iterable[bytes] | None = None
        for before in befores:
            body = before(environ, start_response)
            if body is not None:
                break
        else:
            if composes:
                response = PegResponse()
                environ["pegboard.response"] = response
                response.body = response.prime(target(environ, response.start_response))
                for compose in composes:
                    replaced = compose(environ, response.start_response)
                    if replaced is not None and replaced is not response.body:
                        close_body(response.body)
                        response.body = replaced
                if response.status is None:
                    raise RuntimeError("no component started the response")
                start_response(response.status, response.headers, response.exc_info)
                body = response.body
            else:
                body = target(environ, start_response)
    except BaseException:
        _run_cleanups(cleanups, environ)
        raise
    return _Closing(body, cleanups, environ) if cleanups else body


def phased(components: Sequence[object], target: WSGIApplication) -> WSGIApplication:
    """The callable a request runs: ``target`` plus the phase hooks of ``components``.

    ``components`` run root first (the last one is the target's own
    component).  Without any hook this is ``target`` itself: plain WSGI
    apps pay nothing for phases.
    """
    befores = _hooks(components, "__before__")
    composes = _hooks(reversed(components), "__compose__")
    cleanups = _hooks(reversed(components), "cleanup")
    if befores or composes or cleanups:
        return functools.partial(_run_phases, befores, target, composes, cleanups)
    return target


def cascade(
    apps: Sequence[WSGIApplication],
    environ: Environ,
    start_response: StartResponse,
    catch: frozenset[int] = frozenset({404}),
) -> Iterable[bytes]:
    """Run ``apps`` in order on ``environ`` until one answers outside ``catch``.

    Every app but the last runs on a copy of the environ, so one that fell
    through leaves no changes behind; a request body is read once into a
    spooled temporary file and replayed for each try.  The last app's
    answer is final.
    """
    replay = _replayable_input(environ) if len(apps) > 1 else None
    for app in apps[:-1]:
        if replay is not None:
            replay.seek(0)
        attempt = dict(environ)
        response = PegResponse()
        body = response.prime(app(attempt, response.start_response))
        if response.code in catch:
            close_body(body)
            continue
        environ.update(attempt)
        start_response(response.status or "500 Internal Server Error", response.headers, response.exc_info)
        return body
    if replay is not None:
        replay.seek(0)
    return apps[-1](environ, start_response)


def _replayable_input(environ: Environ) -> tempfile.SpooledTemporaryFile[bytes] | None:
    """Swap ``wsgi.input`` for a seekable copy when the request has a body."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return None
    # SIM115 is silenced below: the copy replaces wsgi.input for the rest of the request; it goes with the environ
    copy: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)  # noqa: SIM115
    source = environ["wsgi.input"]
    remaining = length
    while remaining > 0:
        chunk = source.read(min(remaining, 65536))
        if not chunk:
            break
        copy.write(chunk)
        remaining -= len(chunk)
    copy.seek(0)
    environ["wsgi.input"] = copy
    return copy
