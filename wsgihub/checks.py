"""Site checks that need more than one mount: what works but will surprise.

The hub runs them when an app is mounted (each problem becomes a
:class:`~wsgihub.MountWarning`) and ``wsgihub check`` lists them all.
Checks that concern one framework live in its adapter
(:meth:`wsgihub.adapter.Adapter.problems`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub

__all__ = ["cookie_collisions", "paths_overlap", "shadowed_routes"]

#: Where a rule's variable part starts (Werkzeug/Flask/Django ``<``, Pyramid ``{``, regex).
_VARIABLE = re.compile(r"[<{(^$\\*]")


def paths_overlap(a: str, b: str) -> bool:
    """Whether one path is the other or below it, on a segment boundary."""
    a, b = a.rstrip("/") or "", b.rstrip("/") or ""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or not a or not b


def _static_part(rule: str) -> str:
    match = _VARIABLE.search(rule)
    return rule[: match.start()] if match else rule


def shadowed_routes(hub: Hub, peg: Peg) -> list[str]:
    """Routes of an app (or of its ancestors) that a deeper mount hides."""
    found: list[str] = []
    pegs = hub.pegs()
    for parent in pegs:
        if parent.adapter is None:
            continue
        below = [c for c in pegs if c.over is None and c is not parent and _is_below(c, parent)]
        if parent is not peg and parent is not peg.over:
            below = [c for c in below if c is peg]
        if not below:
            continue
        for route in parent.adapter.routes():
            rule = route.rule if route.rule.startswith("/") else "/" + route.rule
            full = parent.prefix + _static_part(rule)
            for child in below:
                if full == child.prefix or full.startswith(child.prefix + "/") or full == child.prefix + "/":
                    found.append(
                        f"route {parent.name}:{route.endpoint} ({parent.prefix}{rule}) is shadowed "
                        f"by mount {child.name!r} at {child.prefix!r}"
                    )
    return found


def _is_below(child: Peg, parent: Peg) -> bool:
    return child.prefix != parent.prefix and (not parent.prefix or child.prefix.startswith(parent.prefix + "/"))


def cookie_collisions(hub: Hub, peg: Peg) -> list[str]:
    """Cookies of the same name two apps set on overlapping paths."""
    if peg.adapter is None:
        return []
    found: list[str] = []
    mine = list(peg.adapter.cookies())
    for other in hub.pegs():
        if other is peg or other.adapter is None or peg.adapter.same_app_as(other.adapter):
            continue
        for a in mine:
            for b in other.adapter.cookies():
                if a.name == b.name and (a.domain or "") == (b.domain or "") and paths_overlap(a.path, b.path):
                    first, second = sorted([(peg.name, a), (other.name, b)], key=lambda item: item[0])
                    found.append(
                        f"mounts {first[0]!r} and {second[0]!r} both set a {a.purpose} cookie named "
                        f"{a.name!r} (Path={first[1].path} and Path={second[1].path}): each will wipe "
                        "the other's; give one of them another cookie name"
                    )
    return found
