"""Reading a Django URL conf: named routes, their rules and parameters.

Django's resolver knows how to reverse a name but not which keyword
arguments a name takes, and ``reverse()`` refuses keyword arguments a
pattern does not have.  :class:`UrlTable` walks the resolver once
(recursively through ``include()``, namespaces joined with ``:``) and
answers, per endpoint and set of value names, which values go into the
path and which become the query string.  The answers are cached: a hub
builds the same few endpoints with the same value names over and over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RegexPattern, RoutePattern

__all__ = ["ALL", "FILE_VIEWS", "Candidate", "Plan", "UrlTable", "pattern_text", "reachable"]

#: An attempt that passes every value as a keyword argument (the common case).
ALL: Final = None

#: Plans kept per table before the cache starts over (keys come from code, not clients).
PLAN_CACHE_SIZE: Final = 4096

_ANCHORS = re.compile(r"^\^|(?:\$|\\Z)$")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One pattern a URL name reverses to.

    ``params`` are the keyword arguments the pattern (with its includes)
    takes; ``defaults`` the extra keyword arguments it accepts because the
    pattern or an include passes them to the view; ``positional`` marks a
    regex with only unnamed groups, which needs positional arguments.
    """

    params: frozenset[str]
    defaults: frozenset[str]
    rule: str
    positional: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """How to build one endpoint from one set of value names.

    ``attempts`` are tried in order: each is ``ALL`` (every value is a
    keyword argument) or the names that go into the path, the others going
    into the query string.  ``known`` is false when the table has no such
    name (the build is tried anyway: a per-request URL conf may have it).
    ``error`` is the reason no pattern can take these names, if none can.
    """

    attempts: tuple[frozenset[str] | None, ...]
    known: bool
    rule: str | None = None
    error: str | None = None


def pattern_text(pattern: object) -> str:
    """A pattern's rule: the route (``<int:pk>/``) or the regex without anchors."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = _ANCHORS.sub("", text)
    return text


def _params(pattern: object) -> tuple[frozenset[str], bool]:
    """The keyword parameters of one pattern, and whether it needs positional ones."""
    if isinstance(pattern, RoutePattern):
        return frozenset(pattern.converters), False
    regex = getattr(pattern, "regex", None)
    if regex is None:
        return frozenset(), False
    names = frozenset(regex.groupindex)
    return names, not names and regex.groups > 0


def walk(patterns: Sequence[Any]) -> Iterator[tuple[str, Candidate]]:
    """``(name, candidate)`` for every named pattern, namespaces joined with ``:``."""

    def visit(
        patterns: Sequence[Any],
        ns: str,
        rule: str,
        params: frozenset[str],
        defaults: frozenset[str],
        positional: bool,
    ) -> Iterator[tuple[str, Candidate]]:
        for entry in patterns:
            own, needs_args = _params(entry.pattern)
            text = rule + pattern_text(entry.pattern)
            if isinstance(entry, URLResolver):
                inner_ns = f"{ns}{entry.namespace}:" if entry.namespace else ns
                yield from visit(
                    entry.url_patterns,
                    inner_ns,
                    text,
                    params | own,
                    defaults | frozenset(entry.default_kwargs),
                    positional or needs_args,
                )
            elif isinstance(entry, URLPattern) and entry.name:
                yield (
                    ns + entry.name,
                    Candidate(
                        params | own,
                        defaults | frozenset(entry.default_args),
                        text,
                        positional or needs_args,
                    ),
                )

    return visit(patterns, "", "", frozenset(), frozenset(), False)


class UrlTable:
    """The named routes of one resolver and the build plans derived from them."""

    __slots__ = ("names", "plans", "resolver", "routes")

    def __init__(self, resolver: Any) -> None:
        self.resolver = resolver
        #: ``(name, candidate)`` in URL conf order.
        self.routes: list[tuple[str, Candidate]] = list(walk(resolver.url_patterns))
        #: Every name with its candidates, in URL conf order.
        self.names: dict[str, list[Candidate]] = {}
        for name, candidate in self.routes:
            self.names.setdefault(name, []).append(candidate)
        self._add_app_namespace_aliases(resolver)
        #: ``(endpoint, *value names)`` -> :class:`Plan`.
        self.plans: dict[tuple[str, ...], Plan] = {}

    def _add_app_namespace_aliases(self, resolver: Any, ns: str = "") -> None:
        """``app_name:x`` reverses to the app's default instance, as Django does."""
        for app_name, instances in resolver.app_dict.items():
            if app_name in resolver.namespace_dict or not instances:
                continue
            default = instances[0]
            for name in [n for n in self.names if n.startswith(f"{ns}{default}:")]:
                alias = f"{ns}{app_name}:" + name[len(ns) + len(default) + 1 :]
                self.names.setdefault(alias, self.names[name])
        for namespace, (_, sub) in resolver.namespace_dict.items():
            self._add_app_namespace_aliases(sub, f"{ns}{namespace}:")

    def plan(self, key: tuple[str, ...]) -> Plan:
        """The plan for ``(endpoint, *value names)``, computed once."""
        plan = self.plans.get(key)
        if plan is None:
            plan = self._make_plan(key[0], frozenset(key[1:]))
            if len(self.plans) >= PLAN_CACHE_SIZE:
                self.plans.clear()
            self.plans[key] = plan
        return plan

    def _make_plan(self, endpoint: str, keys: frozenset[str]) -> Plan:
        candidates = self.names.get(endpoint)
        if candidates is None:
            return Plan((ALL,), known=False)
        usable = [c for c in candidates if not c.positional]
        fits = sorted((c for c in usable if c.params <= keys), key=lambda c: -len(c.params))
        attempts: list[frozenset[str] | None] = []
        for candidate in fits:
            path_keys = candidate.params | (candidate.defaults & keys)
            attempt = ALL if path_keys == keys else path_keys
            if attempt not in attempts:
                attempts.append(attempt)
        if attempts:
            return Plan(tuple(attempts), known=True, rule=fits[0].rule)
        if not usable:
            rule = candidates[0].rule
            return Plan(
                (),
                True,
                rule,
                f"its pattern {rule!r} has unnamed groups; build it with named groups",
            )
        best = min(usable, key=lambda c: len(c.params - keys))
        missing = ", ".join(sorted(best.params - keys))
        return Plan((), True, best.rule, f"missing value(s) {missing} for {best.rule!r}")


# -- every reachable pattern, for the graft analysis ----------------------------------------------
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")

#: Django's views that serve files (``static()`` patterns, ``staticfiles``), by dotted path.
FILE_VIEWS = frozenset({"django.views.static.serve", "django.contrib.staticfiles.views.serve"})


def _regex_piece(pattern: object, endpoint: bool) -> str:
    """One level's regex as the resolver applies it, anchors dropped, groups unnamed.

    Django searches each level from its ``^``; the last level must reach the
    end only when its regex ends with ``$`` / ``\\Z`` (else the rest is free).
    """
    regex = getattr(pattern, "regex", None)
    text: str = regex.pattern if regex is not None else re.escape(str(pattern))
    text = _NAMED_GROUP.sub("(?:", text)
    if text.startswith("^"):
        text = text[1:]
    elif isinstance(pattern, RegexPattern):  # searched, not anchored: it may match further on
        text = "(?:.*?)" + text
    if text.endswith("\\Z") and not text.endswith("\\\\Z"):
        return text[:-2]
    if text.endswith("$") and not text.endswith("\\$"):
        return text[:-1]
    return text + ".*" if endpoint else text


def _view_path(callback: Any) -> str:
    """The dotted path Django names an unnamed pattern's view by (``ResolverMatch._func_path``)."""
    func = getattr(callback, "view_class", callback)
    if not hasattr(func, "__name__"):
        return f"{type(func).__module__}.{type(func).__name__}"
    return f"{func.__module__}.{func.__name__}"


def reachable(patterns: Sequence[Any]) -> Iterator[tuple[str, str, str]]:
    """``(endpoint, rule, regex)`` for every pattern a request can reach, named or not.

    ``endpoint`` is what ``resolve()`` calls ``view_name`` (namespaces
    joined with ``:``; an unnamed pattern by its view's dotted path);
    ``regex`` matches the whole path, ``/`` first.
    """

    def visit(patterns: Sequence[Any], ns: str, rule: str, regex: str) -> Iterator[tuple[str, str, str]]:
        for entry in patterns:
            text = rule + pattern_text(entry.pattern)
            if isinstance(entry, URLResolver):
                inner_ns = f"{ns}{entry.namespace}:" if entry.namespace else ns
                yield from visit(entry.url_patterns, inner_ns, text, regex + _regex_piece(entry.pattern, False))
            elif isinstance(entry, URLPattern):
                name = entry.name or _view_path(entry.callback)
                yield ns + name, text, regex + _regex_piece(entry.pattern, True)

    return visit(patterns, "", "", "/")
