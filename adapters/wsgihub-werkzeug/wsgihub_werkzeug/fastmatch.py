"""An exact shortcut for "some rule of this ``Map`` takes the path": the graft's cold-path question.

A graft asks its app's router, for every path it has not seen lately,
whether a rule takes the path and method (:meth:`MapURLs.match
<wsgihub_werkzeug.urls.MapURLs.match>`); the app then matches the path again
inside its own request.  Werkzeug's ``MapAdapter.match`` walks its state
machine, compiles-or-looks-up a regular expression per segment, converts the
values and raises ``NotFound`` for a miss: several microseconds, as much as
a whole cheap legacy request's share of a graft's budget.

:class:`PositiveMatcher` answers only the *yes* of that question, and only
where the yes is certain; every other answer is "ask Werkzeug".  It is built
from Werkzeug's own compiled rule parts (``Rule._parts``: the same static
texts and the same regular expressions the state machine uses, compiled with
the same flags), so a rule it finds taking a path is one the state machine
would find too.  Why a found rule is enough for Werkzeug's answer to be a
yes (a match or a redirect, never ``NotFound``/``MethodNotAllowed``):

- the state machine searches every transition (static first, then the
  dynamic ones by weight) until some rule at the end fits the method, or
  until it finds a strict-slash redirect (a yes as well); a rule whose parts
  take the path's segments one to one and whose methods take the method is
  reached unless an earlier yes stops the search;
- what could still turn Werkzeug's found rule into a ``NotFound`` is a
  converter refusing the value (``ValidationError``: ``int(min=...)``,
  ``fixed_digits``, a custom converter).  So the shortcut is used only for
  paths whose first segment no such rule can take: rules are sorted into
  *simple* ones (the standard converters ``default``/``string``/``path``/
  ``any``/``uuid``, and ``int``/``float`` without ``min``/``max``/
  ``fixed_digits``; not websocket, no ``redirect_to``, no ``defaults``
  (nor any other rule of the same endpoint with defaults), no alias, no
  slash-suffixed ``path`` part) and the rest (build-only rules are never
  matched and play no part).  The first
  segments of the rest are *fenced*: a path starting with one always asks
  Werkzeug; a rest rule that can start with any segment (or with any
  subdomain) turns the shortcut off for the whole map.

Paths the shortcut leaves to Werkzeug: anything not found by a simple rule
(every miss, every redirect: strict slashes, merged slashes, aliases), paths
with ``//`` or not starting with ``/``, lower-case methods, and every path
of a host-matching map (the caller does not use the shortcut there).  The
matcher is rebuilt when rules are added to the map, and is not used at all
with a Werkzeug whose rules lack the compiled parts it reads.  (A rule added
to an endpoint that already has rules, with a URL built from the map before
the next match, is seen when the hub is rebuilt, as a graft's gate sees new
first segments.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final

from werkzeug.routing import Map
from werkzeug.routing.converters import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)

__all__ = ["SAFE_CONVERTERS", "Handed", "PositiveMatcher", "positive_matcher"]

#: Converter classes (exactly these, not subclasses) whose ``to_python`` never
#: refuses a value their regular expression matched.  Numbers only without bounds.
SAFE_CONVERTERS: Final = frozenset(
    {UnicodeConverter, PathConverter, AnyConverter, UUIDConverter, IntegerConverter, FloatConverter}
)

#: A test of a whole path (a compiled pattern's ``match``, or the part-by-part walk) and the methods it takes.
_Test = tuple[Callable[[str], object], "frozenset[str] | None"]

#: A converter's group in a part's pattern (``(?P<__werkzeug_0>``): plain groups once parts are joined.
_GROUP = re.compile(r"\(\?P<__werkzeug_\d+>")

#: The same, reading the number.
_NUMBER = re.compile(r"\(\?P<__werkzeug_(\d+)>")


def _safe_converter(converter: object) -> bool:
    if type(converter) not in SAFE_CONVERTERS:
        return False
    if isinstance(converter, (IntegerConverter, FloatConverter)):
        return converter.min is None and converter.max is None and not converter.fixed_digits
    return True


class Handed:
    """Werkzeug's own answer for one path and method, found by the shortcut: the rule and its values.

    Only for a path whose first segment exactly one rule of the map can take
    (see :meth:`PositiveMatcher.handed`): the state machine then has no other
    rule to find.  :meth:`fits` tells whether a ``MapAdapter`` about to match
    is matching exactly this (same map, unchanged; same path, method and
    domain part; not a websocket), so an app can take this answer instead of
    matching again.  Truthy: a yes.
    """

    __slots__ = ("matcher", "method", "path", "rule", "values")

    def __init__(
        self, matcher: PositiveMatcher, path: str, method: str, rule: Any, values: dict[str, Any]
    ) -> None:
        self.matcher, self.path, self.method, self.rule, self.values = matcher, path, method, rule, values

    def fits(self, adapter: Any) -> bool:
        """Whether ``adapter`` (a bound ``MapAdapter``) would match exactly this path, method and rules."""
        return (
            adapter.path_info == self.path
            and adapter.default_method == self.method
            and adapter.subdomain == self.matcher.domain
            and not adapter.websocket
            and self.matcher.current(adapter.map)
        )


#: A first segment only one rule can take: its whole-path pattern (groups: the values in order),
#: methods, the rule and its converters in order.
_Exact = tuple[Callable[[str], "re.Match[str] | None"], "frozenset[str] | None", Any, tuple[tuple[str, Any], ...]]


class PositiveMatcher:
    """The simple rules of one ``Map``, by first path segment; see the module docs.

    :meth:`takes` is ``True`` only when Werkzeug's ``MapAdapter.match`` for
    the same path and method (bound with the same domain part) answers a
    match or a redirect; ``False`` means "ask Werkzeug".
    """

    __slots__ = ("anywhere", "by_first", "count", "domain", "endpoints", "exact", "fenced")

    def __init__(
        self,
        endpoints: dict[Any, Any],
        by_first: dict[str, tuple[_Test, ...]],
        anywhere: tuple[_Test, ...],
        fenced: frozenset[str],
        exact: dict[str, _Exact] | None = None,
        domain: str = "",
    ) -> None:
        #: The map's endpoints (its own dict) and how many it had when this was built.
        self.endpoints, self.count = endpoints, len(endpoints)
        #: The domain part the rules were sorted for.
        self.domain = domain
        #: First segments exactly one rule of the map can take (none when a rule starts with a variable).
        self.exact = exact or {}
        #: Tests of the simple rules starting with a variable.
        self.anywhere = anywhere
        #: First segments a rule that is not simple starts with: always Werkzeug's.
        self.fenced = fenced
        #: First path segment -> the tests for a path starting with it: those of the simple rules
        #: starting with it (one per set of methods), then :attr:`anywhere`; none for a fenced one.
        self.by_first = {first: (*found, *anywhere) for first, found in by_first.items()}
        self.by_first.update(dict.fromkeys(fenced, ()))

    def current(self, url_map: Map) -> bool:
        """Whether the map still has the rules this was built from.

        Werkzeug marks a map changed when a rule is added (``_remap``, until
        its next ``update()``); the number of endpoints and host matching
        are checked too.
        """
        return (
            not url_map._remap
            and not url_map.host_matching
            and url_map._rules_by_endpoint is self.endpoints
            and len(self.endpoints) == self.count
        )

    def takes(self, path: str, method: str) -> bool:
        """``True``: a simple rule takes ``path`` (decoded, as Werkzeug matches it) and ``method``."""
        parts = path.split("/", 2)  # ["", first segment, rest]: one call, cheaper than find and slices
        if parts[0] or len(parts) < 2 or "//" in path:
            return False
        for test, methods in self.by_first.get(parts[1], self.anywhere):
            if (methods is None or method in methods) and test(path):
                return True
        return False


    def handed(self, path: str, method: str) -> Handed | None:
        """Werkzeug's answer for ``path`` and ``method`` when the one rule that can take it does; else ``None``.

        Exact: ``path``'s first segment is one only that rule of the map can
        take (no rule starts with a variable, none that is not simple starts
        with it), so the state machine finds that rule or nothing; its values
        are converted by the rule's own converters, as Werkzeug does (a
        refusal: ``None``, ask Werkzeug).
        """
        parts = path.split("/", 2)
        if parts[0] or len(parts) < 2 or "//" in path:
            return None
        exact = self.exact.get(parts[1])
        if exact is None:
            return None
        test, methods, rule, converters = exact
        if methods is not None and method not in methods:
            return None
        found = test(path)
        if found is None:
            return None
        try:
            values = {name: converter.to_python(value) for (name, converter), value in zip(converters, found.groups())}
        except ValidationError:
            return None
        return Handed(self, path, method, rule, values)


def _walk(parts: tuple[tuple[str | None, re.Pattern[str] | None, bool], ...], path: str) -> bool:
    """Whether ``parts`` take ``path`` segment by segment, as Werkzeug's state machine does."""
    segments = path.split("/")
    count = len(segments)
    for index, (static, pattern, final) in enumerate(parts):
        if index >= count:
            return False
        if final:  # a non-isolating converter (path): takes every segment left, slashes between
            return pattern is not None and pattern.match("/".join(segments[index:])) is not None
        if static is not None:
            if segments[index] != static:
                return False
        elif pattern is None or pattern.match(segments[index]) is None:
            return False
    return count == len(parts)


def positive_matcher(url_map: Map, domain: str) -> PositiveMatcher | None:
    """The shortcut for ``url_map`` matched with ``domain`` as the domain part; ``None``: not usable."""
    if url_map.host_matching or not hasattr(url_map, "_remap") or not hasattr(url_map, "_rules_by_endpoint"):
        return None  # host matching needs the host; another Werkzeug: no shortcut
    rules = list(url_map.iter_rules())  # update()s the map: its change mark is clear from here
    with_defaults = {rule.endpoint for rule in rules if rule.defaults is not None}
    # first segment (None: a variable) -> methods -> joined patterns; and the rules only a walk can test
    joined: dict[str | None, dict[frozenset[str] | None, list[str]]] = {}
    walked: dict[str | None, list[_Test]] = {}
    fenced: set[str] = set()
    # first segment -> the rules that can take a path starting with it (for the exact hand-off)
    takers: dict[str | None, list[Any]] = {}
    for rule in rules:
        if rule.build_only:
            continue  # never matched, never redirects to
        parts: Sequence[Any] | None = getattr(rule, "_parts", None)
        if not parts or not hasattr(parts[0], "static"):
            return None  # a Werkzeug this was not written for
        domain_part = parts[0]
        if domain_part.static and domain_part.content != domain:
            continue  # another subdomain: never reached from this domain
        first_part = parts[2] if len(parts) > 2 else None
        if not domain_part.static or first_part is None:
            return None  # any subdomain, or a rule this module does not know: no shortcut
        first = first_part.content if first_part.static else None
        takers.setdefault(first, []).append(rule)
        if not _simple(rule, with_defaults):
            if first is None:
                return None  # a rule that may refuse values, for any first segment
            fenced.add(first)
            continue
        methods = frozenset(rule.methods) if rule.methods is not None else None
        pattern = _joined(rule)
        if pattern is not None:
            joined.setdefault(first, {}).setdefault(methods, []).append(pattern)
        else:
            steps = tuple(
                (part.content, None, False) if part.static else (None, re.compile(part.content), part.final)
                for part in parts[1:]
            )
            walked.setdefault(first, []).append((partial(_walk, steps), methods))
    tests: dict[str | None, list[_Test]] = {}
    for first, by_methods in joined.items():
        for methods, patterns in by_methods.items():
            whole = re.compile("|".join(f"(?:{p})" for p in patterns))
            tests.setdefault(first, []).append((whole.match, methods))
    for first, found in walked.items():
        tests.setdefault(first, []).extend(found)
    anywhere = tuple(tests.pop(None, ()))
    by_first = {first: tuple(found) for first, found in tests.items() if first is not None and first not in fenced}
    exact: dict[str, _Exact] = {}
    if None not in takers:  # a rule starting with a variable may take any path: no first segment is one rule's
        for first, found_rules in takers.items():
            if first is not None and first in by_first and len(found_rules) == 1:
                single = _exact(found_rules[0])
                if single is not None:
                    exact[first] = single
    return PositiveMatcher(url_map._rules_by_endpoint, by_first, anywhere, frozenset(fenced), exact, domain)


def _simple(rule: Any, with_defaults: set[Any]) -> bool:
    """Whether Werkzeug, finding ``rule``, always answers with it or a redirect (see the module docs)."""
    if (
        rule.websocket
        or rule.redirect_to is not None
        or rule.alias
        or rule.defaults is not None
        or rule.endpoint in with_defaults
        or not all(_safe_converter(c) for c in rule._converters.values())
    ):
        return False
    path_parts = rule._parts[1:]
    return not any(part.suffixed or (part.final and index != len(path_parts) - 1) for index, part in enumerate(path_parts))


def _exact(rule: Any) -> _Exact | None:
    """The whole-path test of a simple rule that yields its values, or ``None`` (only a walk is exact).

    The groups of :func:`_joined`'s pattern kept, in the order Werkzeug
    collects the values (its converter groups are numbered along the rule);
    ``None`` when the pattern has other groups or the numbering is not
    along the rule.
    """
    joined = _joined(rule, keep_groups=True)
    if joined is None:
        return None
    numbers = [int(n) for n in _NUMBER.findall(joined)]
    if numbers != sorted(numbers) or len(numbers) != len(rule._converters):
        return None
    pattern = re.compile(_NUMBER.sub("(", joined))
    if pattern.groups != len(rule._converters):
        return None
    methods = frozenset(rule.methods) if rule.methods is not None else None
    return pattern.match, methods, rule, tuple((str(name), c) for name, c in rule._converters.items())


def _joined(rule: Any, keep_groups: bool = False) -> str | None:
    """One pattern for the whole path of a simple rule, or ``None`` when only a walk is exact.

    Werkzeug matches each part against one segment (text without ``/``) and a
    final (``path``) part against the rest.  Joined with ``/``, the parts'
    patterns mean the same as long as none but the final one can match a
    ``/``: true of every safe converter's pattern except ``any`` with an item
    holding a slash, which is walked instead.  (The default converter's
    ``[^/]{1,}`` names a slash only to refuse it.)
    """
    if any(
        "/" in converter.regex and type(converter) is not UnicodeConverter
        for converter in rule._converters.values()
        if converter.part_isolating
    ):
        return None
    pieces = []
    for part in rule._parts[1:]:
        if part.static:
            pieces.append(re.escape(part.content))
        else:
            content = part.content.removesuffix(r"\Z")
            pieces.append(content if keep_groups else _GROUP.sub("(?:", content))
    return "/".join(pieces) + r"\Z"
