"""The pegboard: components hung on pegs, dispatched by URL path.

Every mounted component hangs on a :class:`Peg`.  Pegs live in a tree
keyed by path segments, so a request costs a walk as deep as its path,
whatever the number of mounts.  The deepest peg whose prefix matches on a
segment boundary wins; ``SCRIPT_NAME`` gains the matched prefix and
``PATH_INFO`` keeps the rest (``SCRIPT_NAME + PATH_INFO`` is unchanged)::

    board = PegboardApplication({"/": legacy, "/new": new_app})
    board.mount("/new/api", api)        # a deeper peg; /new/api/x goes to api
    board.peg("new").context["db"] = db # shared context of one component

Every request carries ``environ["pegboard.board"]`` (the board) and
``environ["pegboard.peg"]`` (the peg of the called component).

Pegboard-aware components may define phase hooks, run in a fixed order:

``__before__(environ, start_response)``
    on every component along the path, root first; a non-``None`` return
    value is the response and skips the rest (a guard that answers early).
``__call__(environ, start_response)``
    on the target, as any WSGI app.
``__compose__(environ, start_response)``
    target first, then up to the root, after processing.  The response so
    far is ``environ["pegboard.response"]`` (``status``, ``headers``,
    ``body``); calling ``start_response`` replaces status and headers, and
    returning an iterable replaces the body.
``__cleanup__(environ)``
    target first, then up to the root, when the response iterable is closed
    (also after a client disconnect or an exception).
``__setup__(peg)`` / ``__teardown__(peg)``
    lifecycle: :meth:`Pegboard.setup` and :meth:`Pegboard.teardown` call
    them from parents to children until the tree is traversed.

Plain WSGI callables only ever get ``__call__``: a board whose components
define no hooks adds nothing but the walk to a request.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import MountError, UnknownMountError, closest
from .wsgi import close_body

if TYPE_CHECKING:
    from .adapter import Adapter
    from .partyline import PartylineOperator
    from .types import Environ, ExcInfo, Headers, StartResponse, WSGIApplication

__all__ = [
    "Peg",
    "PegResponse",
    "Pegboard",
    "PegboardApplication",
    "normalize_prefix",
    "not_found",
]

#: RFC 3986 unreserved characters: the only ones every framework leaves alone.
_SEGMENT = re.compile(r"[A-Za-z0-9\-._~]+\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
#: Resolved paths kept per board (bounded: clients choose paths).
RESOLVE_CACHE_SIZE = 4096

PHASES = ("__before__", "__compose__", "__cleanup__")


def normalize_prefix(prefix: str, mount: str | None = None) -> str:
    """``"new/"`` -> ``"/new"``; ``""`` and ``"/"`` -> ``""`` (the root).

    Refuses characters outside unreserved ASCII, empty, ``.`` and ``..``
    segments with a :class:`MountError` naming the mount.
    """
    if not isinstance(prefix, str):
        raise MountError(f"mount {mount or prefix!r}: prefix must be a string, not {type(prefix).__name__}", mount)
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    for segment in stripped.split("/"):
        if segment in (".", "..") or not _SEGMENT.match(segment):
            raise MountError(
                f"mount {mount or prefix!r}: prefix {prefix!r} has segment {segment!r}; "
                "use only letters, digits and - . _ ~ (unreserved ASCII), no empty, '.' or '..' segments",
                mount or prefix,
            )
    return "/" + stripped


def default_name(prefix: str) -> str:
    """The mount name a prefix gives by default: ``/api/v1`` -> ``api.v1``."""
    return prefix.strip("/").replace("/", ".") or "root"


def not_found(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """A 404 that says nothing about what the site has."""
    body = b"Not Found\n"
    start_response(
        "404 Not Found",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


class Peg:
    """One mounted component and its place on the board.

    ``prefix`` is the path below the board's own ``SCRIPT_NAME`` ("" for the
    root); ``parent`` the nearest mounted ancestor; ``context`` a dict the
    component shares with whoever holds the peg.
    """

    __slots__ = (
        "__weakref__",
        "adapter",
        "app",
        "board",
        "context",
        "framework",
        "grafts",
        "handler",
        "invite_path",
        "name",
        "operator",
        "over",
        "parent",
        "prefix",
    )

    def __init__(self, board: Pegboard, name: str, prefix: str, app: WSGIApplication) -> None:
        self.board = board
        self.name = name
        self.prefix = prefix
        self.app = app
        self.parent: Peg | None = None
        self.context: dict[str, Any] = {}
        self.adapter: Adapter[Any] | None = None
        self.framework: str | None = None
        self.grafts: list[Peg] = []
        self.over: Peg | None = None
        self.operator: PartylineOperator | None = None
        self.invite_path: str | None = None
        self.handler: WSGIApplication = app

    @property
    def children(self) -> list[Peg]:
        """The pegs whose nearest mounted ancestor is this one."""
        return [p for p in self.board.pegs() if p.parent is self and p.over is None]

    @property
    def is_graft(self) -> bool:
        """True for an app grafted into another mount's URL space."""
        return self.over is not None

    def mount(self, prefix: str, app: WSGIApplication, name: str | None = None, **options: Any) -> Peg:
        """Mount ``app`` below this peg (``prefix`` is relative to it)."""
        return self.board.mount(self.prefix + normalize_prefix(prefix, name), app, name, **options)

    def lineage(self) -> list[Peg]:
        """The pegs from the root down to this one (inclusive)."""
        chain: list[Peg] = []
        peg: Peg | None = self.over or self
        while peg is not None:
            chain.append(peg)
            peg = peg.parent
        chain.reverse()
        return chain

    def __repr__(self) -> str:
        kind = f" over {self.over.name!r}" if self.over is not None else ""
        return f"<Peg {self.name!r} at {self.prefix or '/'!r}{kind}>"


class _Node:
    """A trie node: one path segment, perhaps holding a peg."""

    __slots__ = ("children", "peg")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.peg: Peg | None = None


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
        """Make sure ``start_response`` was called, pulling a first chunk if needed."""
        if self.status is not None:
            return body
        iterator = iter(body)
        try:
            first = next(iterator)
        except StopIteration:
            close_body(body)
            return []
        except BaseException:
            close_body(body)
            raise
        return _Chain(first, iterator, body)


class _Chain:
    """A first chunk already pulled, then the rest of an iterable (closes it)."""

    def __init__(self, first: bytes, rest: Iterator[bytes], original: Iterable[bytes]) -> None:
        self.first, self.rest, self.original = first, rest, original

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        yield from self.rest

    def close(self) -> None:
        close_body(self.original)


def _hooks(components: Iterable[object], name: str) -> tuple[Callable[..., Any], ...]:
    """The ``name`` phase hooks the components define (``None`` means none)."""
    found = (getattr(c, name, None) for c in components)
    return tuple(hook for hook in found if hook is not None)


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
        except BaseException as exc:  # every cleanup runs; the first error wins
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


class Pegboard:
    """A tree of pegs and the dispatch over it; a WSGI application.

    ``context`` is the board-wide shared context.  Subclasses extend
    :meth:`_attach` / :meth:`_detach` to do more when a peg is hung or taken
    off (the :class:`~wsgihub.Hub` finds adapters there).
    """

    def __init__(self) -> None:
        self.context: dict[str, Any] = {}
        self._root = _Node()
        self._pegs: dict[str, Peg] = {}
        #: Every peg by mount name (a read-only live view, grafts included).
        self.pegs_by_name: Mapping[str, Peg] = MappingProxyType(self._pegs)
        self._lock = threading.RLock()
        self._not_found: WSGIApplication = not_found
        self._rebuild()

    # -- mounting -------------------------------------------------------------
    def mount(self, prefix: str, app: WSGIApplication, name: str | None = None, **options: Any) -> Peg:
        """Hang ``app`` at ``prefix``; return its peg.

        Refuses (with :class:`MountError` naming the mount) a prefix outside
        unreserved ASCII, a prefix or name already taken, an invalid name, or
        an ``app`` that is not callable.  A failed mount leaves no trace.
        """
        norm = normalize_prefix(prefix, name)
        name = default_name(norm) if name is None else name
        with self._lock:
            self._check_new(name, app)
            node = self._node(norm, create=False)
            if node is not None and node.peg is not None:
                raise MountError(
                    f"mount {name!r}: prefix {norm or '/'!r} is taken by mount {node.peg.name!r}", name
                )
            peg = Peg(self, name, norm, app)
            self._pegs[name] = peg
            self._node(norm, create=True).peg = peg  # type: ignore[union-attr]
            self._relink()
            return self._hang(peg, options)

    def graft_peg(self, app: WSGIApplication, over: str | Peg, name: str | None = None, **options: Any) -> Peg:
        """Hang ``app`` in the URL space of the mount ``over`` (see ``Hub.graft``)."""
        with self._lock:
            base = over if isinstance(over, Peg) else self.peg(over)
            if base.over is not None:
                raise MountError(f"graft {name!r}: cannot graft onto graft {base.name!r}; graft onto {base.over.name!r}", name)
            name = f"{base.name}.graft{len(base.grafts) + 1}" if name is None else name
            self._check_new(name, app)
            peg = Peg(self, name, base.prefix, app)
            peg.over = base
            peg.parent = base.parent
            self._pegs[name] = peg
            base.grafts.append(peg)
            return self._hang(peg, options)

    def _hang(self, peg: Peg, options: Mapping[str, Any]) -> Peg:
        """Attach a peg just put in the tree, or take it off again if attaching fails."""
        try:
            self._attach(peg, **options)
        except BaseException:
            self._remove(peg)
            raise
        self._rebuild()
        return peg

    def unmount(self, name: str | Peg) -> Peg:
        """Take a peg (and its grafts) off the board; return it."""
        with self._lock:
            peg = name if isinstance(name, Peg) else self.peg(name)
            for graft in list(peg.grafts):
                self.unmount(graft)
            self._detach(peg)
            self._remove(peg)
            self._rebuild()
            return peg

    def _check_new(self, name: str, app: object) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise MountError(
                f"mount {name!r}: invalid name; use letters, digits, '_', '.', '-' "
                "(no ':'), starting with a letter or '_'",
                str(name),
            )
        if name in self._pegs:
            raise MountError(f"mount {name!r}: name is taken by {self._pegs[name]!r}", name)
        if not callable(app):
            raise MountError(f"mount {name!r}: {app!r} is not a WSGI callable", name)

    def _remove(self, peg: Peg) -> None:
        self._pegs.pop(peg.name, None)
        if peg.over is not None:
            if peg in peg.over.grafts:
                peg.over.grafts.remove(peg)
        else:
            node = self._node(peg.prefix, create=False)
            if node is not None and node.peg is peg:
                node.peg = None
            self._prune()
            self._relink()

    def _attach(self, peg: Peg, **options: Any) -> None:
        """Called when ``peg`` is hung (before the mount is visible to requests)."""
        if options:
            raise TypeError(f"mount {peg.name!r}: unexpected options {sorted(options)}")

    def _detach(self, peg: Peg) -> None:
        """Called before ``peg`` is taken off."""

    # -- looking things up ------------------------------------------------------
    def peg(self, name: str) -> Peg:
        """The peg named ``name`` (:class:`MountError` with close matches if none)."""
        if not isinstance(name, str):
            raise UnknownMountError(f"no mount named {name!r}: a mount is named by a string", None)
        try:
            return self._pegs[name]
        except KeyError:
            raise UnknownMountError(f"no mount named {name!r}{closest(name, self._pegs)}", name) from None

    def pegs(self) -> list[Peg]:
        """Every peg, in mount order (grafts included)."""
        return list(self._pegs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._pegs

    def resolve(self, path: str) -> tuple[Peg | None, str, str]:
        """``(peg, matched_prefix, rest)`` for ``path``; ``peg`` is ``None`` if none matches."""
        hit = self._cache.get(path)
        return hit if hit is not None else self._miss(self._cache, path)

    def _miss(self, cache: dict[str, tuple[Peg | None, str, str]], path: str) -> tuple[Peg | None, str, str]:
        """Walk the trie for ``path`` and remember the answer (the cache is bounded)."""
        result = self._walk(path)
        if len(cache) >= RESOLVE_CACHE_SIZE:
            cache.clear()
        cache[path] = result
        return result

    # -- the trie ---------------------------------------------------------------
    def _node(self, prefix: str, create: bool) -> _Node | None:
        node = self._root
        if not prefix:
            return node
        for segment in prefix[1:].split("/"):
            nxt = node.children.get(segment)
            if nxt is None:
                if not create:
                    return None
                nxt = node.children[segment] = _Node()
            node = nxt
        return node

    def _prune(self) -> None:
        def prune(node: _Node) -> bool:
            for key in list(node.children):
                if prune(node.children[key]):
                    del node.children[key]
            return node.peg is None and not node.children

        prune(self._root)

    def _relink(self) -> None:
        """Point every mounted peg at its nearest mounted ancestor."""

        def walk(node: _Node, ancestor: Peg | None) -> None:
            if node.peg is not None:
                node.peg.parent = ancestor
                for graft in node.peg.grafts:
                    graft.parent = ancestor
                ancestor = node.peg
            for child in node.children.values():
                walk(child, ancestor)

        walk(self._root, None)

    def _walk(self, path: str) -> tuple[Peg | None, str, str]:
        node = self._root
        best = node.peg
        best_end = 0
        pos = 0
        end_of_path = len(path)
        while pos < end_of_path and path[pos] == "/":
            end = path.find("/", pos + 1)
            if end < 0:
                end = end_of_path
            node = node.children.get(path[pos + 1 : end])  # type: ignore[assignment]
            if node is None:
                break
            if node.peg is not None:
                best, best_end = node.peg, end
            pos = end
        if best_end:
            return best, path[:best_end], path[best_end:]
        return best, "", path

    def _rebuild(self) -> None:
        """Recompile handlers and start a fresh resolve cache (after any change)."""
        for peg in self._pegs.values():
            if peg.over is None:
                peg.handler = self._compile(peg)
        # A new cache object: a request still holding the old one cannot
        # put a stale answer into the new one.
        self._cache: dict[str, tuple[Peg | None, str, str]] = {}

    def _compile(self, peg: Peg) -> WSGIApplication:
        """The callable a request for ``peg`` runs: the app, plus phases if any."""
        target = self._target(peg)
        components = [p.app for p in peg.lineage()]
        befores = _hooks(components, "__before__")
        composes = _hooks(reversed(components), "__compose__")
        cleanups = _hooks(reversed(components), "__cleanup__")
        if befores or composes or cleanups:
            return functools.partial(_run_phases, befores, target, composes, cleanups)
        return target

    def _target(self, peg: Peg) -> WSGIApplication:
        """The processing callable of ``peg`` (the Hub adds grafts and invites)."""
        return peg.app

    # -- WSGI -------------------------------------------------------------------
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:  # cheaper than .get() while the key is there (servers put it)
            path = environ["PATH_INFO"]
        except KeyError:
            path = ""
        cache = self._cache
        try:
            peg, matched, rest = cache[path]
        except KeyError:
            peg, matched, rest = self._miss(cache, path)
        if peg is None:
            return self._not_found(environ, start_response)
        if matched:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + matched
            environ["PATH_INFO"] = rest
        environ["pegboard.board"] = self
        environ["pegboard.peg"] = peg
        return peg.handler(environ, start_response)

    # -- lifecycle --------------------------------------------------------------
    def setup(self) -> None:
        """Call ``__setup__(peg)`` on every component, parents before children."""
        self._propagate("__setup__")

    def teardown(self) -> None:
        """Call ``__teardown__(peg)`` on every component, parents before children."""
        self._propagate("__teardown__")

    def walk_pegs(self) -> Iterator[Peg]:
        """Every peg, parents before children (breadth first), grafts after their base."""
        level = [p for p in self._pegs.values() if p.parent is None and p.over is None]
        while level:
            nxt: list[Peg] = []
            for peg in level:
                yield peg
                yield from peg.grafts
                nxt.extend(peg.children)
            level = nxt

    def _propagate(self, hook: str) -> None:
        for peg in self.walk_pegs():
            method = getattr(peg.app, hook, None)
            if method is not None:
                method(peg)


class PegboardApplication(Pegboard):
    """A ready WSGI application on a board, built from ``{prefix: app}``.

    ``not_found`` answers paths no peg matches (default: a bare 404).
    """

    def __init__(
        self,
        mounts: Mapping[str, WSGIApplication] | None = None,
        *,
        not_found: WSGIApplication | None = None,
    ) -> None:
        super().__init__()
        if not_found is not None:
            self._not_found = not_found
        for prefix, app in (mounts or {}).items():
            self.mount(prefix, app)
