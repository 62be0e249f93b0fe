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

Pegboard-aware components may define phase hooks (``__before__``,
``__compose__``, ``cleanup``) and lifecycle hooks (``setup``, ``teardown``);
:mod:`wsgihub.compose` runs them and documents their order.  Grafts (apps
sharing a mount's URL space) are dispatched by :mod:`wsgihub.grafts`.
Plain WSGI callables only ever get ``__call__``: a board whose components
define no hooks adds nothing but the walk to a request.

Subclasses extend three methods: :meth:`Pegboard._attach` and
:meth:`Pegboard._detach` when a peg is hung or taken off, and
:meth:`Pegboard._handle`, which calls a resolved peg's handler (the hub
records the request there for ``wsgihub.url_for``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import grafts as _grafts
from .compose import PegResponse, component_hook, phased
from .errors import MountError, UnknownMountError, closest

if TYPE_CHECKING:
    from .adapter import Adapter
    from .grafts import Sharing
    from .partyline import PartylineOperator
    from .types import Environ, StartResponse, WSGIApplication

__all__ = [
    "Peg",
    "PegResponse",  # moved to wsgihub.compose; importable from here as before
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
        "sharing",
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
        #: How a graft shares the URL space of ``over`` (:class:`wsgihub.grafts.Sharing`;
        #: ``None``: the defaults).
        self.sharing: Sharing | None = None
        self.operator: PartylineOperator | None = None
        self.invite_path: str | None = None
        self.handler: WSGIApplication = app

    @property
    def children(self) -> list[Peg]:
        """The pegs whose nearest mounted ancestor is this one."""
        return [p for p in self.board.pegs() if p.parent is self and p.over is None]

    @property
    def is_graft(self) -> bool:
        """Compatibility alias of ``peg.over is not None`` (a graft has a mount beneath it)."""
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

    def graft(self, app: WSGIApplication, over: str | Peg, name: str | None = None, **options: Any) -> Peg:
        """Hang ``app`` in the URL space of the mount ``over``; return its peg.

        See :mod:`wsgihub.grafts` for how requests are shared (and
        :meth:`wsgihub.Hub.graft`).  ``name`` defaults to ``over.graftN``.
        """
        with self._lock:
            base = over if isinstance(over, Peg) else self.peg(over)
            _grafts.check_over(base, name)
            name = _grafts.default_name(base) if name is None else name
            self._check_new(name, app)
            peg = Peg(self, name, base.prefix, app)
            peg.over = base
            peg.parent = base.parent
            self._pegs[name] = peg
            base.grafts.append(peg)
            return self._hang(peg, options)

    def graft_peg(self, app: WSGIApplication, over: str | Peg, name: str | None = None, **options: Any) -> Peg:
        """Compatibility alias of :meth:`graft`."""
        return self.graft(app, over, name, **options)

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
        """The callable a request for ``peg`` runs: the app, plus grafts and phases if any."""
        return phased([p.app for p in peg.lineage()], self._target(peg))

    def _target(self, peg: Peg) -> WSGIApplication:
        """The processing callable of ``peg``: its app, or the dispatch among its grafts.

        The hub wraps it further (invite routes).
        """
        return _grafts.dispatcher(peg)

    # -- WSGI -------------------------------------------------------------------
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Resolve the path to a peg, shift ``SCRIPT_NAME``/``PATH_INFO``, call :meth:`_handle`."""
        path = environ.get("PATH_INFO", "")
        hit = self._cache.get(path)
        peg, matched, rest = hit if hit is not None else self._miss(self._cache, path)
        if peg is None:
            return self._not_found(environ, start_response)
        root = environ.get("SCRIPT_NAME", "")
        environ["SCRIPT_NAME"] = root + matched
        environ["PATH_INFO"] = rest
        environ["pegboard.board"] = self
        environ["pegboard.peg"] = peg
        return self._handle(peg, environ, start_response, root)

    def _handle(self, peg: Peg, environ: Environ, start_response: StartResponse, root: str) -> Iterable[bytes]:
        """Run a request resolved to ``peg`` (``root``: the ``SCRIPT_NAME`` in front of the board).

        The hook for subclasses that do something around every request;
        the :class:`~wsgihub.Hub` records the current request here.
        """
        return peg.handler(environ, start_response)

    # -- lifecycle --------------------------------------------------------------
    def setup(self) -> None:
        """Call ``setup(peg)`` on every pegboard-aware component, parents before children.

        (``__setup__(peg)`` on any component, the older spelling, too.)
        """
        self._propagate("setup")

    def teardown(self) -> None:
        """Call ``teardown(peg)`` on every pegboard-aware component, parents before children.

        (``__teardown__(peg)`` on any component, the older spelling, too.)
        """
        self._propagate("teardown")

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
            method = component_hook(peg.app, hook)
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
