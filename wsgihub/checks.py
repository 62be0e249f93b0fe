"""Site checks that need more than one mount: what works but will surprise.

Each problem is a :class:`Finding` with a stable ``id`` (scripts and the
site file's ``silence`` key use it), a ``level``, a one-line ``message`` and
the ``mounts`` involved.  ``wsgihub check`` lists them (``--json`` as data);
the hub warns about those that involve a new mount when it is mounted
(:class:`~wsgihub.MountWarning`).  Checks that concern one framework live in
its adapter (:meth:`wsgihub.adapter.Adapter.problems`), reported as
``W003``.

=====  =======  ===============================================================
id     level    finding
=====  =======  ===============================================================
W001   warning  a route is shadowed: a deeper mount takes every path of it
I001   info     a route is partly shadowed: a deeper mount takes some of its paths
W002   warning  two apps set a cookie of the same name on overlapping paths
W003   warning  an adapter's own finding (``Adapter.problems``)
W004   warning  the shared login's session cookie does not reach a mount (its
                path, e.g. Django's ``SESSION_COOKIE_PATH``, does not cover the
                mount's prefix): the login is never seen there
W010   warning  a graft takes a route of the app beneath (every path of it)
W011   warning  a graft takes part of a route of the app beneath
W012   warning  an ``only``/``exclude`` pattern of a graft names no endpoint of it
I010   info     a graft's routes cannot be read: it is tried first for GET and
                HEAD (its 404 falls through) and gets no other method
=====  =======  ===============================================================

Ids never change meaning; new checks get new ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from . import grafts as _grafts
from . import rules as _rules
from .identity import IDENTITY

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub

__all__ = [
    "LEVELS",
    "Finding",
    "cookie_collisions",
    "graft_findings",
    "level_at_least",
    "login_cookie_findings",
    "mount_findings",
    "paths_overlap",
    "shadowed_routes",
    "site_findings",
]

#: Levels, lowest first (``--fail-level`` takes one of them).
LEVELS: Final = ("info", "warning", "error")


def level_at_least(level: str, threshold: str) -> bool:
    """Whether ``level`` is ``threshold`` or above."""
    return LEVELS.index(level) >= LEVELS.index(threshold)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem ``wsgihub check`` reports.

    ``id`` is stable (``W001``...; see the module docs), ``level`` one of
    :data:`LEVELS`, ``message`` one line, ``mounts`` the mounts involved.
    """

    id: str
    level: str
    message: str
    mounts: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``wsgihub check --json`` prints."""
        return {"id": self.id, "level": self.level, "message": self.message, "mounts": list(self.mounts)}

    def __str__(self) -> str:
        return self.message


def paths_overlap(a: str, b: str) -> bool:
    """Whether one path is the other or below it, on a segment boundary."""
    a, b = a.rstrip("/") or "", b.rstrip("/") or ""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or not a or not b


# -- shadowed routes --------------------------------------------------------------------------------
def shadow_findings(hub: Hub, peg: Peg) -> list[Finding]:
    """Routes of an app (or of its ancestors) that a deeper mount hides, in full or in part.

    A route's paths are compared with everything at or below the deeper
    mount's prefix, converters and regexes included (:mod:`wsgihub.rules`).
    """
    found: list[Finding] = []
    pegs = hub.pegs()
    for parent in pegs:
        if parent.adapter is None:
            continue
        below = [c for c in pegs if c.over is None and c is not parent and _is_below(c, parent)]
        if parent is not peg and parent is not peg.over:
            below = [c for c in below if c is peg]
        if not below:
            continue
        routes = _grafts.route_refs(parent) or []
        for child in below:
            inside = _rules.prefix_pattern(child.prefix[len(parent.prefix) :])
            for ref, pattern in routes:
                how = _rules.overlap(inside, pattern)
                if how == _rules.TAKES:
                    found.append(
                        Finding(
                            "W001",
                            "warning",
                            f"route {ref.name} ({ref.rule}) is shadowed by mount {child.name!r} at {child.prefix!r}",
                            (parent.name, child.name),
                        )
                    )
                elif how == _rules.PARTIAL:
                    found.append(
                        Finding(
                            "I001",
                            "info",
                            f"route {ref.name} ({ref.rule}) is partly shadowed by mount {child.name!r} at "
                            f"{child.prefix!r}: its paths below {child.prefix}/ go to {child.name!r}",
                            (parent.name, child.name),
                        )
                    )
    return found


def shadowed_routes(hub: Hub, peg: Peg) -> list[str]:
    """Routes of an app (or of its ancestors) that a deeper mount hides (``W001`` messages)."""
    return [f.message for f in shadow_findings(hub, peg) if f.id == "W001"]


def _is_below(child: Peg, parent: Peg) -> bool:
    return child.prefix != parent.prefix and (not parent.prefix or child.prefix.startswith(parent.prefix + "/"))


# -- cookies -----------------------------------------------------------------------------------------
def cookie_findings(hub: Hub, peg: Peg) -> list[Finding]:
    """Cookies of the same name two apps set on overlapping paths (``W002``)."""
    if peg.adapter is None:
        return []
    found: list[Finding] = []
    mine = list(peg.adapter.cookies())
    for other in hub.pegs():
        if other is peg or other.adapter is None or peg.adapter.same_app_as(other.adapter):
            continue
        for a in mine:
            for b in other.adapter.cookies():
                if a.name == b.name and (a.domain or "") == (b.domain or "") and paths_overlap(a.path, b.path):
                    first, second = sorted([(peg.name, a), (other.name, b)], key=lambda item: item[0])
                    found.append(
                        Finding(
                            "W002",
                            "warning",
                            f"mounts {first[0]!r} and {second[0]!r} both set a {a.purpose} cookie named "
                            f"{a.name!r} (Path={first[1].path} and Path={second[1].path}): each will wipe "
                            "the other's; give one of them another cookie name",
                            (first[0], second[0]),
                        )
                    )
    return found


def cookie_collisions(hub: Hub, peg: Peg) -> list[str]:
    """Cookies of the same name two apps set on overlapping paths (``W002`` messages)."""
    return [f.message for f in cookie_findings(hub, peg)]


# -- the shared login -----------------------------------------------------------------------------------
def cookie_reaches(cookie_path: str, prefix: str) -> bool:
    """Whether a browser sends a cookie of ``cookie_path`` with every request below the mount ``prefix``.

    RFC 6265's path-match, for the paths ``prefix + "/..."`` (the mount's
    own ``prefix`` without a slash is usually a redirect to it).
    """
    path = (prefix.rstrip("/") or "") + "/"
    cookie = cookie_path or "/"
    return path == cookie or (path.startswith(cookie) and (cookie.endswith("/") or path[len(cookie)] == "/"))


def login_cookie_findings(hub: Hub) -> list[Finding]:
    """``W004``: mounts the session cookie of the site's shared login never reaches.

    The login is kept by the mount answering the ``identity`` service (the
    Django adapter, :mod:`wsgihub.identity`); the other apps find it through
    the browser's session cookie, which the browser sends only below the
    cookie's path.  Every other mount with an adapter (those that can use
    the identity helpers) outside that path is named.
    """
    handlers = hub.partyline.handlers.get(IDENTITY, ())
    found: list[Finding] = []
    pegs = list(hub.pegs())
    for keeper in pegs:
        operator, adapter = keeper.operator, keeper.adapter
        if adapter is None or operator is None or not any(h in operator.handlers for h in handlers):
            continue
        for cookie in adapter.cookies():
            if cookie.purpose != "session":
                continue
            for other in pegs:
                if other is keeper or other.adapter is None or adapter.same_app_as(other.adapter):
                    continue
                if not cookie_reaches(cookie.path, other.prefix):
                    found.append(
                        Finding(
                            "W004",
                            "warning",
                            f"mount {other.name!r} at {other.prefix or '/'!r} never gets the login cookie "
                            f"{cookie.name!r} of mount {keeper.name!r} (Path={cookie.path}): who is logged in is "
                            f"never known there; give the cookie a path covering both (Django: "
                            f"SESSION_COOKIE_PATH = '/')",
                            (keeper.name, other.name),
                        )
                    )
    return found


# -- grafts --------------------------------------------------------------------------------------------
def graft_findings(report: _grafts.GraftReport) -> list[Finding]:
    """``W010``/``W011`` per route a graft takes, ``W012`` per pattern naming nothing, ``I010`` if unreadable."""
    mounts = (report.graft, report.over)
    found: list[Finding] = []
    if not report.readable:
        found.append(
            Finding(
                "I010",
                "info",
                f"graft {report.graft!r} over {report.over!r}: its routes cannot be read, so GET and HEAD "
                "requests are tried there first (its 404 falls through to the app beneath) and other methods "
                "never reach it; give it an adapter to make it route-aware",
                mounts,
            )
        )
        return found
    for takeover in report.takes:
        found.append(Finding("W010", "warning", takeover.message, mounts))
    for takeover in report.partial:
        found.append(Finding("W011", "warning", takeover.message, mounts))
    for pattern in report.unmatched_patterns:
        found.append(
            Finding(
                "W012",
                "warning",
                f"graft {report.graft!r}: only/exclude pattern {pattern!r} names no endpoint of it",
                (report.graft,),
            )
        )
    return found


def _graft_summary(report: _grafts.GraftReport) -> list[Finding]:
    """One finding per graft when it is mounted (``wsgihub check`` lists each route)."""
    found = [f for f in graft_findings(report) if f.id in ("W012", "I010")]
    mounts = (report.graft, report.over)
    if report.takes:
        found.append(
            Finding(
                "W010",
                "warning",
                f"graft {report.graft!r} takes {len(report.taken_routes)} route(s) of {report.over!r} "
                f"(first: {report.takes[0].message}); 'wsgihub check' lists them",
                mounts,
            )
        )
    if report.partial:
        found.append(
            Finding(
                "W011",
                "warning",
                f"graft {report.graft!r} takes part of {len(report.partly_taken_routes) or len(report.partial)} "
                f"route(s) of {report.over!r} (first: {report.partial[0].message}); 'wsgihub check' lists them",
                mounts,
            )
        )
    return found


# -- everything -----------------------------------------------------------------------------------------
def _adapter_findings(hub: Hub, peg: Peg) -> list[Finding]:
    if peg.adapter is None:
        return []
    return [Finding("W003", "warning", str(problem), (peg.name,)) for problem in peg.adapter.problems(hub, peg)]


def mount_findings(hub: Hub, peg: Peg) -> list[Finding]:
    """Findings that involve ``peg``, as the hub warns about them when it is mounted.

    A graft's takeovers come as one summary per kind (``wsgihub check`` lists each).
    """
    found = _adapter_findings(hub, peg) + shadow_findings(hub, peg) + cookie_findings(hub, peg)
    if peg.over is not None:
        found.extend(_graft_summary(_grafts.report(peg)))
    return [f for f in found if f.level != "info"]


def site_findings(hub: Hub) -> list[Finding]:
    """Every finding of the site, each once, in mount order."""
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(items: Iterable[Finding]) -> None:
        for item in items:
            key = (item.id, item.message)
            if key not in seen:
                seen.add(key)
                found.append(item)

    for peg in hub.pegs():
        add(_adapter_findings(hub, peg))
        add(shadow_findings(hub, peg))
        add(cookie_findings(hub, peg))
        if peg.over is not None:
            add(graft_findings(_grafts.report(peg)))
    add(login_cookie_findings(hub))
    return found
