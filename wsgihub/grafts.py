"""Grafts: apps that share the URL space of the mount beneath them (``over``).

::

    hub.mount("/", legacy_django_app, name="legacy")
    hub.graft(new_flask_app, over="legacy", name="new")
    hub.graft(new_flask_app, over="legacy", name="new", only=["user*", "blog.index"])

A graft hangs on a peg of its own whose ``over`` is the mount beneath it
and whose prefix is that mount's.  A request for that prefix goes to the
first graft whose adapter has a route for its path and method
(:meth:`wsgihub.Adapter.match`), else to the app beneath.

**Safe by default** (``fall_through=True``): a graft that took a ``GET`` or
``HEAD`` request and answers it ``404`` hands it on to the next graft that
wants it, then to the app beneath, so a route of the graft that happens to
cover a path of the app beneath (Flask's ``/static/<path:filename>`` over
Django's ``/static/``) does not break it.  Only the status is looked at:
the body of a successful answer streams as the app gives it.  A request
with any other method (``POST``, ``PUT``, ``DELETE``...) runs in the graft
that took it and nowhere else, whatever it answers: nothing with side
effects runs twice.  ``fall_through=False`` makes the graft's answer final
for every method.

**Scoped** (``only=`` / ``exclude=``, endpoint names or :mod:`fnmatch` globs):
a route of the graft outside the scope is not taken; its requests go on to
the next graft or the app beneath.  A graft whose adapter cannot tell
(``match`` returns ``None``: a plain WSGI app, an adapter without routing)
is tried first for GET and HEAD, in a *cascade* (its 404 falls through,
:func:`wsgihub.compose.cascade`); a request with any other method never
goes to it, since nothing tells whether it would have to run twice.

Per request the hub asks a graft's router only for paths whose first
segment starts one of its routes, and keeps the router's answers per path
(bounded), so requests for the rest of the site pass a graft at the cost of
a set look-up (:class:`_Gate`).

This module holds what grafting adds to the board: the rules for hanging a
graft (:func:`check_over`, :func:`default_name`, :func:`sharing`), the
dispatch of a request among a mount and its grafts (:func:`dispatcher`),
and which routes of the app beneath each graft takes (:func:`report`,
read by :mod:`wsgihub.checks`, ``wsgihub check`` and ``wsgihub routes``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from typing import TYPE_CHECKING, Any

from . import rules as _rules
from .compose import cascade, first_chunk
from .errors import MountError
from .wsgi import close_body

if TYPE_CHECKING:
    from .adapter import AppRoute
    from .board import Peg
    from .types import Environ, ExcInfo, Headers, StartResponse, WSGIApplication

__all__ = [
    "MATCH_KEY",
    "SAFE_METHODS",
    "VERDICT_CACHE_SIZE",
    "GraftReport",
    "RouteRef",
    "Sharing",
    "Takeover",
    "check_over",
    "default_name",
    "dispatch",
    "dispatcher",
    "report",
    "route_refs",
    "sharing",
]

#: Methods whose 404 from a graft falls through to the app beneath (by default).
SAFE_METHODS = frozenset({"GET", "HEAD"})

#: Environ key holding the router's answer for the graft that runs a request, when it is more than
#: ``True``: an adapter's ``match`` may answer its yes with the framework's own match (a truthy
#: object), for the app to take instead of matching the path again (the Flask adapter does).
MATCH_KEY = "wsgihub.graft.match"


def check_over(over: Peg, name: str | None) -> None:
    """Refuse to graft onto a graft (:class:`~wsgihub.errors.MountError` naming both)."""
    if over.over is not None:
        raise MountError(
            f"graft {name!r}: cannot graft onto graft {over.name!r}; graft onto {over.over.name!r}", name
        )


def default_name(over: Peg) -> str:
    """The name a graft gets when none is given: ``legacy.graft1``, ``legacy.graft2``..."""
    return f"{over.name}.graft{len(over.grafts) + 1}"


# -- how a graft shares the URL space ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sharing:
    """How a graft shares the URL space of the mount beneath it.

    ``only``: endpoint names or globs the graft takes (empty: all);
    ``exclude``: those it never takes; ``fall_through``: a 404 to GET/HEAD
    goes on to the app beneath.
    """

    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    fall_through: bool = True

    @property
    def scoped(self) -> bool:
        """Whether ``only`` or ``exclude`` restricts the graft."""
        return bool(self.only or self.exclude)

    def in_scope(self, endpoint: str, mount: str) -> bool:
        """Whether the route ``endpoint`` of the graft named ``mount`` is taken.

        A pattern matches the endpoint (``blog.*``) or its full name
        (``new:blog.*``).
        """
        names = (endpoint, f"{mount}:{endpoint}")
        if self.only and not any(fnmatchcase(n, p) for p in self.only for n in names):
            return False
        return not any(fnmatchcase(n, p) for p in self.exclude for n in names)


def _patterns(value: Any, key: str, mount: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    try:
        items = tuple(value)
    except TypeError:
        raise MountError(
            f"graft {mount!r}: {key} must be endpoint names or globs, not {type(value).__name__}", mount
        ) from None
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise MountError(f"graft {mount!r}: {key} must be endpoint names or globs, not {item!r}", mount)
    return tuple(item.strip() for item in items)


def sharing(mount: str, only: Any = None, exclude: Any = None, fall_through: Any = True) -> Sharing:
    """A :class:`Sharing` from ``hub.graft``'s arguments, refusing bad ones in one line.

    ``only``/``exclude`` are lists of endpoint names or globs (a string is
    split at white space).
    """
    if not isinstance(fall_through, bool):
        raise MountError(f"graft {mount!r}: fall_through must be True or False, not {fall_through!r}", mount)
    return Sharing(_patterns(only, "only", mount), _patterns(exclude, "exclude", mount), fall_through)


# -- dispatch ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Claim:
    """One graft as the dispatch sees it."""

    peg: Peg
    app: WSGIApplication
    test: Callable[[str, str], bool | str | None]
    fall_through: bool


def _run_as(peg: Peg, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    environ["pegboard.peg"] = peg
    return peg.app(environ, start_response)


def _undecided(path: str, method: str) -> None:
    return None


def _scoped_test(peg: Peg, rules: Sharing) -> Callable[[str, str], bool | None]:
    adapter = peg.adapter
    assert adapter is not None
    decided: dict[str, bool] = {}
    name = peg.name

    listed: list[tuple[_rules.PathPattern, frozenset[str] | None, bool]] | None = None

    def by_rules(path: str, method: str) -> bool:
        """The adapter takes the request but cannot name the route: find it among the listed ones."""
        nonlocal listed
        if listed is None:
            listed = [
                (pattern, ref.methods, rules.in_scope(ref.endpoint, name)) for ref, pattern in route_refs(peg) or []
            ]
        hits = [inside for pattern, methods, inside in listed if (methods is None or method in methods) and pattern.matches(path)]
        return any(hits) or not hits

    def test(path: str, method: str) -> bool | None:
        verdict = adapter.match_endpoint(path, method)
        if isinstance(verdict, str):
            inside = decided.get(verdict)
            if inside is None:
                inside = rules.in_scope(verdict, name)
                if len(decided) < 4096:  # endpoints come from the app, but stay bounded
                    decided[verdict] = inside
            return inside
        if verdict is True:
            return by_rules(path, method)
        return verdict

    return test


#: Router answers kept per graft (bounded: clients choose paths).
VERDICT_CACHE_SIZE = 4096

#: A path no route takes: an adapter that answers ``None`` for it cannot tell unlisted paths.
_PROBE = "/\x00wsgihub-no-route"


class _Gate:
    """The cheap "no" before a graft's own router: the first path segments its routes can start with.

    Asking a framework's router costs microseconds (Werkzeug raises and
    catches ``NotFound``); most requests of a legacy site are for paths no
    route of the graft starts with.  The segments are read from the graft's
    routes at its first request; the gate opens for every path when a route
    starts with a variable (``/<slug>``), when the adapter cannot tell
    about unlisted paths (``match`` answers ``None``: traversal), and for
    paths that are not ASCII (the adapter transcodes them).

    The router's answers for the paths that pass are kept too (at most
    :data:`VERDICT_CACHE_SIZE` per graft, started over when full, as the
    board keeps resolved paths) and looked up first (a GET keyed by its
    path alone): popular pages pay the router once.  Routes
    the app gains after its first request are seen once the board is rebuilt
    (any mount or unmount).
    """

    __slots__ = ("firsts", "inner", "peg", "ready", "starts", "verdicts")

    def __init__(self, peg: Peg, inner: Callable[[str, str], Any]) -> None:
        self.peg, self.inner = peg, inner
        self.ready = False
        self.firsts: frozenset[str] | None = None
        self.starts: tuple[str, ...] = ()
        self.verdicts: dict[str | tuple[str, str], Any] = {}

    def __call__(self, path: str, method: str) -> Any:
        # a kept answer first (a GET is keyed by its path alone: no tuple to build)
        verdict = self.verdicts.get(path if method == "GET" else (path, method))
        return verdict if verdict is not None else self.ask(path, method)

    def ask(self, path: str, method: str) -> Any:
        """The answer for a path without a kept one: the first-segment check, then the router (kept)."""
        if not self.ready:
            self._read()
        firsts = self.firsts
        if firsts is not None:
            # the first segment: one split (cheaper than find + slice); a path not starting with "/"
            # (no server sends one; a board's rest always does) is cut as before
            parts = path.split("/", 2)
            if not parts[0] and len(parts) > 1:
                segment = parts[1]
            else:
                end = path.find("/", 1)
                segment = path[1:end] if end > 0 else path[1:]
            # an empty first segment ("/", "//reports/1") is the router's to judge: Werkzeug strips
            # leading slashes and merges the others, so "//reports/1" is its "/reports/1"
            if (
                segment
                and segment not in firsts
                and not (self.starts and segment.startswith(self.starts))
                and segment.isascii()
            ):
                return False
        verdict = self.inner(path, method)
        if verdict is not None:
            verdicts = self.verdicts
            if len(verdicts) >= VERDICT_CACHE_SIZE:
                verdicts.clear()  # started over (the answers stay right: a rebuild makes a new gate)
            verdicts[path if method == "GET" else (path, method)] = verdict
        return verdict

    def _read(self) -> None:
        self.firsts, self.starts = _first_segments(self.peg)
        self.ready = True


def _first_segments(peg: Peg) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """``(whole first segments, first-segment beginnings)`` of ``peg``'s routes; ``None``: any path."""
    adapter = peg.adapter
    refs = route_refs(peg)
    if adapter is None or not refs or adapter.match(_PROBE, "GET") is not False:
        return None, ()
    firsts: set[str] = set()
    starts: set[str] = set()
    for _ref, pattern in refs:
        literal = pattern.prefix
        if not literal.startswith("/"):
            return None, ()
        rest = literal[1:]
        if "/" in rest:
            firsts.add(rest.split("/", 1)[0])
        elif pattern.literal is not None:
            firsts.add(rest)
        elif rest:
            starts.add(rest)
        else:
            return None, ()  # a variable first segment: any path may be the graft's
    return frozenset(firsts), tuple(sorted(starts))


def _claim(peg: Peg) -> _Claim:
    rules = peg.sharing or Sharing()
    adapter = peg.adapter
    if adapter is None:
        test: Callable[[str, str], Any] = _undecided
    elif rules.scoped:
        test = _Gate(peg, _scoped_test(peg, rules))
    else:
        test = _Gate(peg, adapter.match)
    return _Claim(peg, partial(_run_as, peg), test, rules.fall_through)


def dispatch(
    over: WSGIApplication, claims: tuple[_Claim, ...], environ: Environ, start_response: StartResponse
) -> Iterable[bytes]:
    """Send a request to the graft that takes it, else to the app beneath (``over``).

    A graft that takes a GET/HEAD with ``fall_through`` and, for GET/HEAD,
    grafts that cannot tell are tried in a cascade (their 404 falls
    through); a graft that takes any other request answers it; any other
    request is never sent to a graft that cannot tell.
    """
    path = environ.get("PATH_INFO") or "/"
    method = environ.get("REQUEST_METHOD", "GET")
    chain: list[_Claim] | None = None
    answers: list[Any] = []  # the router's answer of each graft in chain (one that is more than True is handed)
    for claim in claims:
        verdict = claim.test(path, method)
        if verdict:
            if claim.fall_through and method in SAFE_METHODS:
                chain = [claim] if chain is None else [*chain, claim]
                answers.append(verdict)
                continue
            if chain is None:
                environ["pegboard.peg"] = claim.peg
                if verdict is not True:
                    environ[MATCH_KEY] = verdict
                return claim.peg.app(environ, start_response)
            return cascade([*(c.app for c in chain), claim.app], environ, start_response)
        if verdict is None and method in SAFE_METHODS:  # cannot tell: GET/HEAD try it, 404 falls through
            chain = [claim] if chain is None else [*chain, claim]
            answers.append(None)
    if chain is None:
        return over(environ, start_response)
    if environ.get("CONTENT_LENGTH") in (None, "", "0"):
        return _fall_through(chain, over, environ, start_response, answers)
    return cascade([*(c.app for c in chain), over], environ, start_response)


def _discard(data: bytes) -> None:
    """The ``write`` callable a 404 that falls through gets: what it writes is dropped."""


def _attempt(peg: Peg, environ: Environ, start_response: StartResponse) -> Iterable[bytes] | None:
    """Run the graft on ``peg`` for a request whose 404 falls through: its body, or ``None`` after a 404.

    The app's ``start_response`` passes anything but a 404 straight to the
    server's (so ``write`` and ``exc_info`` work as without a graft); a 404
    (the first answer, or one replacing another 404) is held back.  An app
    that starts its response lazily has its first chunk pulled to tell.
    After a 404 its body is closed.
    """
    status: str | None = None
    fell = False

    def peek(given: str, headers: Headers, exc_info: ExcInfo | None = None) -> Callable[[bytes], object]:
        nonlocal status, fell
        # "404" <= given < "405": given starts with "404" (two comparisons; no method call)
        if (status is None or fell) and "404" <= given < "405":
            status, fell = given, True
            return _discard
        status, fell = given, False
        return start_response(given, headers, exc_info)

    environ["pegboard.peg"] = peg
    body = peg.app(environ, peek)
    if status is None:
        body = first_chunk(body)
    if fell:
        close_body(body)
        return None
    if status is None:  # the app never started a response
        start_response("500 Internal Server Error", [])
    return body


def _fall_through(
    chain: list[_Claim],
    over: WSGIApplication,
    environ: Environ,
    start_response: StartResponse,
    answers: list[Any] | None = None,
) -> Iterable[bytes]:
    """:func:`~wsgihub.compose.cascade` for a request without a body, at the least cost.

    Each graft runs on the request itself (:func:`_attempt`: anything but a
    404 goes straight to the server, the body streams on untouched).  After
    a 404 the environ is put back as it arrived for the next graft or the
    app beneath.  A graft whose router answered more than ``True``
    (``answers``, one per graft of ``chain``) gets that answer in
    :data:`MATCH_KEY`, for it alone.
    """
    arrived = environ.copy()
    for index, claim in enumerate(chain):
        if answers is not None:
            answer = answers[index]
            if answer is not True and answer is not None:
                environ[MATCH_KEY] = answer
        body = _attempt(claim.peg, environ, start_response)
        if body is not None:
            return body
        environ.clear()
        environ.update(arrived)
    return over(environ, start_response)


def one_graft(over: WSGIApplication, claim: _Claim) -> WSGIApplication:
    """:func:`dispatch` for a mount with one graft (the usual case): a closure, without the loop and chain.

    A closure rather than a ``partial``: the hub calls it from Python, which
    runs a plain function's frame inline.  The graft's kept answer is looked
    up here (:meth:`_Gate.ask` only for a path without one), so a popular
    page pays one dictionary look-up for the graft's decision.
    """
    peg, test, fall_through = claim.peg, claim.test, claim.fall_through
    known: Callable[[str | tuple[str, str]], Any]
    ask: Callable[[str, str], Any]
    if isinstance(test, _Gate):
        known, ask = test.verdicts.get, test.ask  # the gate's dict is cleared when full, never replaced
    else:
        nothing: dict[str | tuple[str, str], Any] = {}
        known, ask = nothing.get, test
    apps = [claim.app, over]

    def dispatch_one(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        verdict = known(path if method == "GET" else (path, method))
        if verdict is None:
            verdict = ask(path, method)
        if verdict:
            if not fall_through or method not in SAFE_METHODS:
                environ["pegboard.peg"] = peg
                if verdict is not True:
                    environ[MATCH_KEY] = verdict
                return peg.app(environ, start_response)
        elif verdict is not None or method not in SAFE_METHODS:  # not taken; or cannot tell: never run twice
            return over(environ, start_response)
        # a GET/HEAD the graft takes (or may take): its 404 falls through (_fall_through for one graft)
        if environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            return cascade(apps, environ, start_response)
        arrived = environ.copy()
        if verdict is not True and verdict is not None:  # the graft's own match, for it alone
            environ[MATCH_KEY] = verdict
        body = _attempt(peg, environ, start_response)
        if body is not None:
            return body
        environ.clear()
        environ.update(arrived)
        return over(environ, start_response)

    return dispatch_one


def dispatcher(over: Peg) -> WSGIApplication:
    """The processing callable of a mount with grafts (its own app if it has none)."""
    if not over.grafts:
        return over.app
    claims = tuple(_claim(g) for g in over.grafts)
    if len(claims) == 1:
        return one_graft(over.app, claims[0])
    return partial(dispatch, over.app, claims)


# -- which routes a graft takes --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RouteRef:
    """A route of one mount, as the graft report names it (``rule`` with the mount prefix)."""

    mount: str
    endpoint: str
    rule: str
    methods: frozenset[str] | None = None
    static: bool = False

    @property
    def name(self) -> str:
        """``mount:endpoint``."""
        return f"{self.mount}:{self.endpoint}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``methods`` sorted, ``null`` for any)."""
        return {
            "name": self.name,
            "mount": self.mount,
            "endpoint": self.endpoint,
            "rule": self.rule,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "static": self.static,
        }


@dataclass(frozen=True, slots=True)
class Takeover:
    """A route of a graft (``route``) taking all (``takes``) or part (``partial``) of one beneath (``taken``).

    ``methods`` are the methods both take (``None``: any); ``falls_through``:
    a file route whose 404s to GET/HEAD go on to the app beneath.
    """

    route: RouteRef
    taken: RouteRef
    overlap: str
    methods: frozenset[str] | None
    falls_through: bool = False

    @property
    def message(self) -> str:
        """``new:blog.index takes '/' from legacy:home`` (what ``wsgihub check`` prints)."""
        how = "takes" if self.overlap == _rules.TAKES else "takes part of"
        text = f"{self.route.name} {how} {self.taken.rule!r} from {self.taken.name}"
        if self.overlap != _rules.TAKES:
            text += f" (its rule {self.route.rule!r} overlaps it)"
        if self.methods is not None and self.methods != self.taken.methods:
            text += f" for {', '.join(sorted(self.methods))}; other methods stay with {self.taken.mount}"
        if self.falls_through:
            text += f"; files it does not have fall through to {self.taken.mount}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "route": self.route.as_dict(),
            "taken": self.taken.as_dict(),
            "overlap": self.overlap,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "falls_through": self.falls_through,
        }


@dataclass(slots=True)
class GraftReport:
    """What one graft does to the mount beneath it (the migration report).

    ``takes``: routes beneath it takes in full; ``partial``: routes beneath
    it takes some paths of; ``adds``: its routes (in scope) that take
    nothing from beneath; ``leaves``: routes beneath it does not touch;
    ``out_of_scope``: its routes ``only``/``exclude`` leave out;
    ``readable``: whether its routes could be read at all.
    """

    graft: str
    over: str
    sharing: Sharing
    takes: list[Takeover] = field(default_factory=list)
    partial: list[Takeover] = field(default_factory=list)
    adds: list[RouteRef] = field(default_factory=list)
    leaves: list[RouteRef] = field(default_factory=list)
    out_of_scope: list[RouteRef] = field(default_factory=list)
    beneath: int = 0
    readable: bool = True
    unmatched_patterns: list[str] = field(default_factory=list)

    @property
    def taken_routes(self) -> list[RouteRef]:
        """Routes beneath taken in full (each once)."""
        return _unique(t.taken for t in self.takes)

    @property
    def partly_taken_routes(self) -> list[RouteRef]:
        """Routes beneath taken in part only (each once)."""
        full = {r.name for r in self.taken_routes}
        return [r for r in _unique(t.taken for t in self.partial) if r.name not in full]

    @property
    def summary(self) -> str:
        """``new takes 12 of 240 routes of legacy`` (and how many it overlaps, adds, leaves out)."""
        if not self.readable:
            return f"{self.graft}: its routes cannot be read; GET and HEAD are tried there first (404 falls through)"
        text = f"{self.graft} takes {len(self.taken_routes)} of {self.beneath} routes of {self.over}"
        extra = []
        if self.partly_taken_routes:
            extra.append(f"part of {len(self.partly_taken_routes)} more")
        extra.append(f"adds {len(self.adds)}")
        if self.out_of_scope:
            extra.append(f"leaves {len(self.out_of_scope)} of its own out of scope")
        return text + " (" + ", ".join(extra) + ")"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``wsgihub routes --grafts --json`` prints."""
        return {
            "graft": self.graft,
            "over": self.over,
            "only": list(self.sharing.only),
            "exclude": list(self.sharing.exclude),
            "fall_through": self.sharing.fall_through,
            "readable": self.readable,
            "summary": self.summary,
            "takes": [t.as_dict() for t in self.takes],
            "partial": [t.as_dict() for t in self.partial],
            "adds": [r.as_dict() for r in self.adds],
            "leaves": [r.as_dict() for r in self.leaves],
            "out_of_scope": [r.as_dict() for r in self.out_of_scope],
            "unmatched_patterns": list(self.unmatched_patterns),
        }


def _unique(refs: Iterable[RouteRef]) -> list[RouteRef]:
    seen: dict[str, RouteRef] = {}
    for ref in refs:
        seen.setdefault(f"{ref.name} {ref.rule}", ref)
    return list(seen.values())


def route_refs(peg: Peg) -> list[tuple[RouteRef, _rules.PathPattern]] | None:
    """Every route a request can reach in ``peg``'s app, with its paths; ``None`` if unreadable."""
    adapter = peg.adapter
    if adapter is None:
        return None
    syntax = _rules.syntax_of(peg.framework)
    out: list[tuple[RouteRef, _rules.PathPattern]] = []
    routes: Sequence[AppRoute] = list(adapter.reachable_routes())
    for route in routes:
        rule = route.rule if route.rule.startswith("/") else "/" + route.rule
        ref = RouteRef(peg.name, route.endpoint, peg.prefix + rule, route.methods, route.static)
        out.append((ref, _rules.parse_rule(route.rule, syntax, route.regex)))
    return out


def report(graft: Peg) -> GraftReport:
    """Which routes of the app beneath ``graft`` it takes, in full or in part, and what it adds."""
    over = graft.over
    if over is None:
        raise MountError(f"mount {graft.name!r} is not a graft", graft.name)
    rules = graft.sharing or Sharing()
    result = GraftReport(graft.name, over.name, rules)
    mine = route_refs(graft)
    beneath = route_refs(over) or []
    result.beneath = len(beneath)
    if mine is None:
        result.readable = False
        return result
    in_scope = [(ref, pattern) for ref, pattern in mine if rules.in_scope(ref.endpoint, graft.name)]
    result.out_of_scope = [ref for ref, _ in mine if not rules.in_scope(ref.endpoint, graft.name)]
    touched: set[int] = set()
    for ref, pattern in in_scope:
        added = True
        for index, (below, below_pattern) in enumerate(beneath):
            methods = _rules.methods_overlap(ref.methods, below.methods)
            if methods is not None and not methods:
                continue
            found = _rules.overlap(pattern, below_pattern)
            if found == _rules.DISJOINT:
                continue
            added = False
            touched.add(index)
            files = rules.fall_through and (ref.static or below.static)
            (result.takes if found == _rules.TAKES else result.partial).append(
                Takeover(ref, below, found, methods, files)
            )
        if added:
            result.adds.append(ref)
    result.leaves = [ref for index, (ref, _) in enumerate(beneath) if index not in touched]
    endpoints = [ref.endpoint for ref, _ in mine]
    for glob in (*rules.only, *rules.exclude):
        probe = Sharing(only=(glob,))
        if not any(probe.in_scope(e, graft.name) for e in endpoints):
            result.unmatched_patterns.append(glob)
    return result

