"""Route rules of every framework in one comparable form, and how two of them overlap.

A graft shares the URL space of the mount beneath it, so the hub must know
which paths a route of one framework takes from a route of another.  Each
rule is read into a :class:`PathPattern` -- a regular expression that the
path below the app's root (``/`` first) must match in full -- from the
framework's own grammar:

- Werkzeug and Flask: ``/users/<int:uid>``, ``<path:rest>``, ``<any(a,b):x>``,
  ``<uuid:u>``...; a rule ending in ``/`` also takes the path without it
  (Werkzeug answers it with a redirect);
- Django ``path()``: ``blog/<int:pk>/``, ``<slug:s>``, ``<path:p>``; the Django
  adapter hands over the resolver's own regex instead (``re_path``, included
  prefixes, namespaces), see :attr:`wsgihub.adapter.AppRoute.regex`;
- Pyramid: ``/users/{uid}``, ``{x:\\d+}``, ``*rest``, the old ``:name``.

:func:`overlap` then decides, for a route ``a`` of a graft and a route
``b`` beneath it, whether ``a`` takes *every* path of ``b``
(:data:`TAKES`), *some* of them (:data:`PARTIAL`) or none
(:data:`DISJOINT`).  The decision is exact for the regular expressions
routes use (literals, classes, alternatives, repeats): both are turned into
automata over the characters they mention and the pair is explored; what
an automaton cannot express (look-arounds, back-references) is compared
on samples and reported as partial at most.  Nothing here imports a
framework.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

try:  # Python 3.11+
    import re._constants as _sre  # type: ignore[import-not-found,unused-ignore]
    import re._parser as _sre_parse  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef,unused-ignore]
    import sre_parse as _sre_parse  # type: ignore[no-redef,unused-ignore]

__all__ = [
    "DISJOINT",
    "PARTIAL",
    "TAKES",
    "Overlap",
    "PathPattern",
    "django_route_regex",
    "methods_overlap",
    "overlap",
    "parse_rule",
    "prefix_pattern",
    "pyramid_regex",
    "syntax_of",
    "werkzeug_regex",
]

#: ``a`` takes every path of ``b``.
TAKES: Final = "takes"
#: ``a`` takes some paths of ``b`` but not all.
PARTIAL: Final = "partial"
#: No path is taken by both.
DISJOINT: Final = "disjoint"

Overlap = Literal["takes", "partial", "disjoint"]

#: Werkzeug's converters (werkzeug.routing.converters), as regular expressions.
WERKZEUG_CONVERTERS: Final[Mapping[str, str]] = {
    "default": r"[^/]+",
    "string": r"[^/]+",
    "int": r"\d+",
    "float": r"\d+\.\d+",
    "path": r".+",  # [^/].*? in Werkzeug, whose merge_slashes redirects '//x' to '/x' anyway
    "uuid": r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}",
}

#: Django's ``path()`` converters (django.urls.converters).
DJANGO_CONVERTERS: Final[Mapping[str, str]] = {
    "str": r"[^/]+",
    "int": r"[0-9]+",
    "slug": r"[-a-zA-Z0-9_]+",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "path": r".+",
}

_WERKZEUG_VARIABLE = re.compile(r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_DJANGO_VARIABLE = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_PYRAMID_NEW = re.compile(r"\{([_a-zA-Z][^{}:]*)(?::((?:[^{}]|\{[^{}]*\})*))?\}")
_PYRAMID_OLD = re.compile(r":([_a-zA-Z]\w*)")
_PYRAMID_STAR = re.compile(r"\*(\w*)$")
_FORMAT_ARGS = re.compile(r"(\w+)\s*=\s*(\d+)")


@dataclass(frozen=True, slots=True)
class PathPattern:
    """The paths one route takes: ``regex`` must match the path (``/`` first) in full.

    ``literal`` is the one path a rule without variables takes (``None``
    otherwise); ``prefix`` the literal text every path starts with.
    """

    regex: str
    literal: str | None = None
    prefix: str = ""
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", _compile(self.regex))

    def matches(self, path: str) -> bool:
        """Whether the route takes ``path`` (below the app's root)."""
        return self.compiled.fullmatch(path) is not None


@lru_cache(maxsize=8192)
def _compile(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def syntax_of(framework: str | None) -> str:
    """The rule grammar of a framework's adapter: ``werkzeug``, ``django`` or ``pyramid``."""
    if framework in ("django", "pyramid"):
        return framework
    return "werkzeug"


def parse_rule(rule: str, syntax: str = "werkzeug", regex: str | None = None) -> PathPattern:
    """The :class:`PathPattern` of ``rule`` written in ``syntax``.

    ``regex``, when the adapter knows it (Django's resolver), wins over
    parsing ``rule``.  A rule that is not a path (no leading ``/``) gets one.
    """
    if regex is None:
        if syntax == "django":
            regex = django_route_regex(rule)
        elif syntax == "pyramid":
            regex = pyramid_regex(rule)
        else:
            regex = werkzeug_regex(rule)
    try:
        return _pattern(regex)
    except (re.error, RecursionError, OverflowError):  # a regex Python cannot compile: read the text literally
        return _pattern(re.escape(_slash(rule)))


@lru_cache(maxsize=8192)
def _pattern(regex: str) -> PathPattern:
    literal = _literal_of(regex)
    return PathPattern(regex, literal, literal if literal is not None else _literal_prefix(regex))


def _slash(rule: str) -> str:
    return rule if rule.startswith("/") else "/" + rule


def werkzeug_regex(rule: str, converters: Mapping[str, str] | None = None) -> str:
    """``/users/<int:uid>`` -> ``/users/\\d+``; a trailing ``/`` may be left out (redirect).

    ``converters`` adds or replaces converter regexes (an app's own
    converters); an unknown converter takes one segment, as ``default`` does.
    """
    table = {**WERKZEUG_CONVERTERS, **(converters or {})}
    rule = _slash(rule)
    out: list[str] = []
    pos = 0
    for match in _WERKZEUG_VARIABLE.finditer(rule):
        out.append(re.escape(rule[pos : match.start()]))
        conv = match.group("conv") or "default"
        args = match.group("args") or ""
        if conv == "any":
            choices = [c.strip().strip("'\"") for c in args.split(",") if c.strip()]
            out.append("(?:" + "|".join(re.escape(c) for c in choices) + ")" if choices else r"[^/]+")
        elif conv in ("default", "string") and args:
            sizes = dict(_FORMAT_ARGS.findall(args))
            if "length" in sizes:
                out.append(f"[^/]{{{sizes['length']}}}")
            else:
                low = sizes.get("minlength", "1")
                out.append(f"[^/]{{{low},{sizes.get('maxlength', '')}}}")
        elif conv == "int" and "signed" in args and "True" in args:
            out.append(r"-?\d+")
        else:
            out.append(table.get(conv, r"[^/]+"))
        pos = match.end()
    out.append(re.escape(rule[pos:]))
    regex = "".join(out)
    if rule.endswith("/") and len(rule) > 1:
        regex += "?"  # strict slashes: /blog redirects to /blog/, so the rule takes it
    return regex


def django_route_regex(route: str) -> str:
    """A Django ``path()`` route (``blog/<int:pk>/``) as the regex its resolver matches."""
    out: list[str] = []
    pos = 0
    for match in _DJANGO_VARIABLE.finditer(route):
        out.append(re.escape(route[pos : match.start()]))
        out.append(DJANGO_CONVERTERS.get((match.group("conv") or "str").strip(), r"[^/]+"))
        pos = match.end()
    out.append(re.escape(route[pos:]))
    regex = "".join(out)
    return regex if route.startswith("/") else "/" + regex


def pyramid_regex(pattern: str) -> str:
    """A Pyramid route pattern (``/users/{uid}``, ``{x:\\d+}``, ``*rest``) as a regex."""
    if _PYRAMID_OLD.search(pattern) and not _PYRAMID_NEW.search(pattern):
        pattern = _PYRAMID_OLD.sub(lambda m: "{" + m.group(1) + "}", pattern)
    pattern = _slash(pattern)
    star = _PYRAMID_STAR.search(pattern)
    tail = ""
    if star is not None:
        pattern, tail = pattern[: star.start()], ".*"
    out: list[str] = []
    pos = 0
    for match in _PYRAMID_NEW.finditer(pattern):
        out.append(re.escape(pattern[pos : match.start()]))
        inner = match.group(2)
        out.append(f"(?:{inner})" if inner else r"[^/]+")
        pos = match.end()
    out.append(re.escape(pattern[pos:]))
    return "".join(out) + tail


def prefix_pattern(prefix: str) -> PathPattern:
    """Every path at or below ``prefix`` (``/blog`` -> ``/blog`` and ``/blog/...``)."""
    return _pattern(re.escape(prefix.rstrip("/")) + "(?:/.*)?")


def methods_overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The methods both take (``None``: any method)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


# -- literals ------------------------------------------------------------------------------------
def _parsed(regex: str) -> Any:
    try:
        return _sre_parse.parse(regex)
    except (re.error, RecursionError, OverflowError):
        return None


def _literal_of(regex: str) -> str | None:
    """The one string ``regex`` matches when it is all literal characters, else ``None``."""
    parsed = _parsed(regex)
    if parsed is None or parsed.state.flags & re.IGNORECASE:
        return None
    chars: list[str] = []
    for op, arg in parsed:
        if op is _sre.LITERAL:
            chars.append(chr(arg))
        elif op is _sre.AT and arg in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING, _sre.AT_END_STRING):
            continue
        else:
            return None
    return "".join(chars)


def _literal_prefix(regex: str) -> str:
    parsed = _parsed(regex)
    if parsed is None or parsed.state.flags & re.IGNORECASE:
        return ""
    chars: list[str] = []
    for op, arg in parsed:
        if op is _sre.LITERAL:
            chars.append(chr(arg))
        elif op is _sre.AT and arg in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING):
            continue
        else:
            break
    return "".join(chars)


# -- the decision ----------------------------------------------------------------------------------
def overlap(a: PathPattern, b: PathPattern) -> Overlap:
    """Does ``a`` take every path of ``b`` (:data:`TAKES`), some (:data:`PARTIAL`) or none?"""
    if not (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)):
        return DISJOINT
    if b.literal is not None:
        return TAKES if a.matches(b.literal) else DISJOINT
    if a.literal is not None:
        return PARTIAL if b.matches(a.literal) else DISJOINT
    return _overlap_regex(a.regex, b.regex)


@lru_cache(maxsize=65536)
def _overlap_regex(a: str, b: str) -> Overlap:
    na, nb = _nfa(a), _nfa(b)
    if na is None or nb is None:
        return _overlap_by_samples(a, b)
    meets, contained = _explore(na, nb)
    if not meets:
        return DISJOINT
    return TAKES if contained else PARTIAL


# -- automata ----------------------------------------------------------------------------------------
_MAX = 0x10FFFF
_ANY: Final = ((0, _MAX),)
_DIGIT: Final = ((48, 57),)
_SPACE: Final = ((9, 13), (32, 32))
_WORD: Final = ((48, 57), (65, 90), (95, 95), (97, 122), (0x80, _MAX))
#: Bounded repeats longer than this are read as "this many or more" (an over-approximation).
_MAX_COPIES = 24

Ranges = tuple[tuple[int, int], ...]


def _normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in _normalize(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX:
        out.append((nxt, _MAX))
    return tuple(out)


def _casefold(ranges: Ranges) -> Ranges:
    extra: list[tuple[int, int]] = []
    for lo, hi in ranges:
        for start, end, shift in ((65, 90, 32), (97, 122, -32)):
            a, b = max(lo, start), min(hi, end)
            if a <= b:
                extra.append((a + shift, b + shift))
    return _normalize([*ranges, *extra])


_CATEGORIES: dict[Any, Ranges] = {
    _sre.CATEGORY_DIGIT: _DIGIT,
    _sre.CATEGORY_NOT_DIGIT: _complement(_DIGIT),
    _sre.CATEGORY_SPACE: _SPACE,
    _sre.CATEGORY_NOT_SPACE: _complement(_SPACE),
    _sre.CATEGORY_WORD: _WORD,
    _sre.CATEGORY_NOT_WORD: _complement(_WORD),
}


class _Unsupported(Exception):
    """A construct automata cannot express (look-around, back-reference)."""


class _NFA:
    """A Thompson automaton: ``edges[state]`` = [(ranges, target)], ``eps[state]`` = [target]."""

    __slots__ = ("accept", "edges", "eps", "start")

    def __init__(self) -> None:
        self.edges: list[list[tuple[Ranges, int]]] = []
        self.eps: list[list[int]] = []
        self.start = self.new()
        self.accept = -1

    def new(self) -> int:
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def build(self, items: Any, start: int, flags: int) -> int:
        """Add ``items`` (a parsed sequence) after ``start``; return the end state."""
        state = start
        for op, arg in items:
            state = self.node(op, arg, state, flags)
        return state

    def char(self, ranges: Ranges, start: int, flags: int) -> int:
        if flags & re.IGNORECASE:
            ranges = _casefold(ranges)
        end = self.new()
        self.edges[start].append((ranges, end))
        return end

    def node(self, op: Any, arg: Any, start: int, flags: int) -> int:
        if op is _sre.LITERAL:
            return self.char(((arg, arg),), start, flags)
        if op is _sre.NOT_LITERAL:
            return self.char(_complement(((arg, arg),)), start, flags)
        if op is _sre.ANY:
            return self.char(_ANY, start, flags)  # a newline in a path is no route's business
        if op is _sre.IN:
            return self.char(_in_ranges(arg), start, flags)
        if op is _sre.AT:
            return start  # anchors: every pattern here is matched in full
        if op is _sre.BRANCH:
            end = self.new()
            for alternative in arg[1]:
                self.eps[self.build(alternative, start, flags)].append(end)
            return end
        if op is _sre.SUBPATTERN:
            _group, add, remove, items = arg
            return self.build(items, start, (flags | add) & ~remove)
        if op in _REPEATS:
            low, high, items = arg
            return self.repeat(low, high, items, start, flags)
        if getattr(_sre, "ATOMIC_GROUP", None) is op:
            return self.build(arg, start, flags)
        raise _Unsupported(str(op))

    def repeat(self, low: int, high: int, items: Any, start: int, flags: int) -> int:
        state = start
        low = min(low, _MAX_COPIES)
        for _ in range(low):
            state = self.build(items, state, flags)
        if high == _sre.MAXREPEAT or high > _MAX_COPIES:
            loop = self.new()
            self.eps[state].append(loop)
            body_end = self.build(items, loop, flags)
            self.eps[body_end].append(loop)
            return loop
        end = self.new()
        self.eps[state].append(end)
        for _ in range(high - low):
            state = self.build(items, state, flags)
            self.eps[state].append(end)
        return end


_REPEATS = tuple(
    getattr(_sre, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_sre, name)
)


def _in_ranges(items: Any) -> Ranges:
    ranges: list[tuple[int, int]] = []
    negate = False
    for op, arg in items:
        if op is _sre.NEGATE:
            negate = True
        elif op is _sre.LITERAL:
            ranges.append((arg, arg))
        elif op is _sre.RANGE:
            ranges.append(arg)
        elif op is _sre.CATEGORY:
            if arg not in _CATEGORIES:
                raise _Unsupported(str(arg))
            ranges.extend(_CATEGORIES[arg])
        elif op is _sre.NOT_LITERAL:
            ranges.extend(_complement(((arg, arg),)))
        else:
            raise _Unsupported(str(op))
    result = _normalize(ranges)
    return _complement(result) if negate else result


@lru_cache(maxsize=8192)
def _nfa(regex: str) -> _NFA | None:
    parsed = _parsed(regex)
    if parsed is None:
        return None
    nfa = _NFA()
    try:
        nfa.accept = nfa.build(parsed, nfa.start, parsed.state.flags)
    except (_Unsupported, RecursionError):
        return None
    return nfa


def _closure(nfa: _NFA, states: Iterable[int]) -> frozenset[int]:
    seen = set(states)
    stack = list(seen)
    while stack:
        for nxt in nfa.eps[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return frozenset(seen)


def _explore(a: _NFA, b: _NFA) -> tuple[bool, bool]:
    """``(some path matches both, every path of b matches a)``, by walking both automata together."""
    bounds = {0, _MAX + 1}
    for nfa in (a, b):
        for edges in nfa.edges:
            for ranges, _ in edges:
                for lo, hi in ranges:
                    bounds.add(lo)
                    bounds.add(hi + 1)
    points = sorted(bounds)
    symbols = [(points[i], points[i + 1] - 1) for i in range(len(points) - 1)]

    def step(nfa: _NFA, states: frozenset[int], symbol: tuple[int, int]) -> frozenset[int]:
        lo = symbol[0]
        targets = [
            target
            for state in states
            for ranges, target in nfa.edges[state]
            if any(r_lo <= lo <= r_hi for r_lo, r_hi in ranges)
        ]
        return _closure(nfa, targets) if targets else frozenset()

    start = (_closure(a, [a.start]), _closure(b, [b.start]))
    seen = {start}
    queue = [start]
    meets = False
    contained = True
    while queue:
        sa, sb = queue.pop()
        in_a, in_b = a.accept in sa, b.accept in sb
        if in_b:
            if in_a:
                meets = True
            else:
                contained = False
        if meets and not contained:
            break
        for symbol in symbols:
            nb = step(b, sb, symbol)
            if not nb:
                continue  # b is dead: nothing of b lies this way
            pair = (step(a, sa, symbol), nb)
            if pair not in seen:
                seen.add(pair)
                queue.append(pair)
    return meets, contained


def _overlap_by_samples(a: str, b: str) -> Overlap:
    """For regexes automata cannot express: partial when a sample of one matches the other."""
    ca, cb = _compile(a), _compile(b)
    for regex, other in ((a, cb), (b, ca)):
        for sample in _samples(regex):
            if other.fullmatch(sample):
                return PARTIAL
    return DISJOINT


def _samples(regex: str) -> list[str]:
    prefix = _literal_prefix(regex)
    return [prefix, prefix + "x", prefix + "1", prefix + "x/", prefix + "1/", prefix + "x/y"]
