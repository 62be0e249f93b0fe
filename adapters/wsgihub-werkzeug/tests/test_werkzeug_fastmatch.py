"""The graft's shortcut for "a rule takes this path" answers exactly as Werkzeug's own ``MapAdapter.match``.

:class:`wsgihub_werkzeug.urls.MapURLs` answers a yes from simple rules
without Werkzeug's state machine (:mod:`wsgihub_werkzeug.fastmatch`).  These
tests compare its answer with Werkzeug's for many rule sets (every standard
converter, bounds, strict and lax slashes, merged slashes, defaults,
redirects, aliases, subdomains, websockets, build-only rules, a custom
converter) and many path spellings (percent signs, non-ASCII, trailing and
doubled slashes, empty segments) and methods (GET, HEAD, OPTIONS, POST, a
lower-case one), and check that the shortcut does answer the yeses it should.
"""

from __future__ import annotations

import copy
import functools
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, Rule, Submount, ValidationError
from werkzeug.routing.exceptions import RoutingException
from wsgihub_werkzeug.fastmatch import positive_matcher
from wsgihub_werkzeug.urls import PLACEHOLDER_HOST, MapURLs

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "get")


class EvenConverter(BaseConverter):
    """A custom converter refusing odd numbers after its pattern matched (``ValidationError``)."""

    regex = r"\d+"

    def to_python(self, value: str) -> Any:
        if int(value) % 2:
            raise ValidationError()
        return int(value)


@functools.lru_cache(maxsize=64)
def bound(url_map: Map) -> Any:
    return url_map.bind(PLACEHOLDER_HOST, "/")


def werkzeug_says(url_map: Map, path: str, method: str) -> bool | str:
    """Werkzeug's own answer, as MapURLs.match turns it into a bool (an error: its type's name)."""
    if not path.isascii():
        path = path.encode("latin-1").decode("utf-8", "replace")
    try:
        bound(url_map).match(path, method)
    except (NotFound, MethodNotAllowed):
        return False
    except (HTTPException, RoutingException):
        return True
    except Exception as error:  # noqa: BLE001 - compared by name
        return type(error).__name__
    return True


def hub_says(urls: MapURLs, path: str, method: str) -> bool | str | None:
    try:
        return urls.match(path, method)
    except Exception as error:  # noqa: BLE001 - compared by name
        return type(error).__name__


UUID = "12345678-1234-5678-1234-567812345678"

RULE_SETS: dict[str, list[Any]] = {
    "flask-like": [
        Rule("/", endpoint="index"),
        Rule("/reports/<int:pk>", endpoint="report", methods=["GET"]),
        Rule("/reports/<int:pk>/edit", endpoint="edit", methods=["GET", "POST"]),
        Rule("/static/<path:filename>", endpoint="static"),
        Rule("/users/<username>/", endpoint="user"),
        Rule("/blog/<int(signed=True):year>/<string(length=2):month>", endpoint="month"),
        Rule("/price/<float:amount>", endpoint="price"),
        Rule("/items/<uuid:key>", endpoint="item"),
        Rule("/lang/<any(en, fr, 'a/b'):code>", endpoint="lang"),
        Rule("/files/<path:rest>/raw", endpoint="raw"),
        Rule("/api/", endpoint="api", methods=["POST"]),
        Rule("/caf\u00e9/<name>", endpoint="cafe"),
        Rule("/pre-<int:n>-post", endpoint="mixed"),
    ],
    "bounds and custom": [
        Rule("/n/<int(min=1, max=5):n>", endpoint="bounded"),
        Rule("/n/<int:n>", endpoint="any_n"),
        Rule("/d/<int(fixed_digits=4):year>", endpoint="year"),
        Rule("/d/<string:anything>", endpoint="d_string"),
        Rule("/even/<even:n>", endpoint="even"),
        Rule("/even/<int:n>", endpoint="even_int"),
        Rule("/free/<int:n>", endpoint="free"),
    ],
    "variable first segment, safe": [
        Rule("/<slug>", endpoint="page"),
        Rule("/<slug>/<int:n>", endpoint="page_n"),
        Rule("/fixed/thing", endpoint="fixed"),
    ],
    "variable first segment, refusing": [
        Rule("/<int(max=3):n>", endpoint="small"),
        Rule("/<slug>", endpoint="page"),
        Rule("/fixed/thing", endpoint="fixed"),
    ],
    "slashes": [
        Rule("/strict/", endpoint="strict"),
        Rule("/lax/", endpoint="lax", strict_slashes=False),
        Rule("/noslash", endpoint="noslash"),
        Rule("/a//b", endpoint="double", merge_slashes=False),
        Rule("/m//n", endpoint="merged"),
        Rule("/deep/<path:p>/", endpoint="suffixed"),
        Rule("/x/<name>/", endpoint="x_slash"),
        Rule("/x/<name>", endpoint="x"),
    ],
    "defaults, redirects, aliases": [
        Rule("/page/", endpoint="pages", defaults={"n": 1}),
        Rule("/page/<int:n>", endpoint="pages"),
        Rule("/old/<int:n>", endpoint="old", redirect_to="/new/<n>"),
        Rule("/gone", endpoint="gone", redirect_to=lambda adapter, **values: "/here"),
        Rule("/here", endpoint="here"),
        Rule("/also", endpoint="here", alias=True),
        Rule("/built/<int:n>", endpoint="built", build_only=True),
        Rule("/built/<name>", endpoint="built_name"),
    ],
    "subdomains and websockets": [
        Rule("/plain/<int:n>", endpoint="plain"),
        Rule("/plain/<int:n>", endpoint="api_plain", subdomain="api"),
        Rule("/ws/<int:n>", endpoint="ws", websocket=True),
        Rule("/ws/<name>", endpoint="ws_name"),
        Submount("/sub", [Rule("/<int:n>", endpoint="sub")]),
    ],
    "methods": [
        Rule("/m/<int:n>", endpoint="get_n", methods=["GET"]),
        Rule("/m/<int:n>", endpoint="post_n", methods=["POST"]),
        Rule("/any/<int:n>", endpoint="any_method"),
        Rule("/opts", endpoint="opts", methods=["OPTIONS"]),
    ],
}

#: Segments as a WSGI PATH_INFO carries them (UTF-8 bytes decoded as latin-1; a bare latin-1 'é' is not UTF-8).
SEGMENTS = (
    "", "reports", "3", "-3", "03", "2024", "1.5", "x", "edit", "raw", "static", "a", "b", "a%2Fb",
    "%7E", "caf\u00c3\u00a9", "caf\u00e9", "pre-7-post", "pre-x-post", "users", "u", "blog", "12",
    "price", "items", UUID, "lang", "en", "files", "api", "n", "4", "9", "d", "even", "free", "fixed",
    "\u0663".encode().decode("latin-1"),
    "thing", "strict", "lax", "noslash", "m", "deep", "page", "old", "gone", "here", "also", "built",
    "plain", "ws", "sub", "any", "opts", "\n",
)


#: Every path of one or two segments from SEGMENTS, and three-segment ones from the most telling.
PATHS = [
    "", "/", "//", "///reports/3", "/reports//3", "/reports/3//",
    *("/" + "/".join(combo) for depth in (1, 2) for combo in itertools.product(SEGMENTS, repeat=depth)),
    *("/" + "/".join(combo) for combo in itertools.product(
        ("", "reports", "3", "edit", "files", "raw", "a", "x", "n", "deep", "sub", "m", "05"), repeat=3
    )),
]


def make_map(rules: list[Any], **options: Any) -> Map:
    return Map(copy.deepcopy(rules), converters={"even": EvenConverter}, **options)


@pytest.mark.parametrize("name", sorted(RULE_SETS))
@pytest.mark.parametrize(
    "options", [{}, {"merge_slashes": False, "strict_slashes": False}, {"redirect_defaults": False}], ids=str
)
def test_the_shortcut_answers_as_werkzeug_does(name: str, options: dict[str, Any]) -> None:
    url_map = make_map(RULE_SETS[name], **options)
    urls = MapURLs(url_map)
    positive = positive_matcher(url_map, "")
    taken = 0
    for path in PATHS:
        for method in METHODS:
            expected = werkzeug_says(url_map, path, method)
            assert hub_says(urls, path, method) == expected, (path, method)
            if positive is not None:
                decoded = path if path.isascii() else path.encode("latin-1").decode("utf-8", "replace")
                if positive.takes(decoded, method):
                    taken += 1
                    assert expected is True, (path, method)
    if name in ("flask-like", "methods", "variable first segment, safe", "slashes"):
        assert taken, "the shortcut never answered"


def test_deeper_paths_of_the_flask_like_map() -> None:
    url_map = make_map(RULE_SETS["flask-like"])
    urls = MapURLs(url_map)
    for combo in itertools.product(("reports", "3", "edit", "files", "raw", "static", "a", "", "x"), repeat=4):
        path = "/" + "/".join(combo)
        for method in ("GET", "POST"):
            assert hub_says(urls, path, method) == werkzeug_says(url_map, path, method), (path, method)


def test_the_shortcut_takes_what_simple_rules_take() -> None:
    url_map = make_map(RULE_SETS["flask-like"])
    positive = positive_matcher(url_map, "")
    assert positive is not None
    for path in ("/", "/reports/3", "/static/css/site.css", "/users/ann/", "/blog/-2024/05", "/price/1.5",
                 f"/items/{UUID}", "/lang/fr", "/files/a/b/raw", "/caf\u00e9/x", "/pre-7-post", "/reports/\u0663"):
        assert positive.takes(path, "GET"), path
        assert positive.takes(path, "HEAD"), path
    assert not positive.takes("/reports/3", "POST")  # Werkzeug's 405: asked
    assert positive.takes("/api/", "POST")
    assert not positive.takes("/users/ann", "GET")  # a strict-slash redirect: Werkzeug's to say
    assert not positive.takes("/lang/a/b", "GET")  # 'a/b' never matches one segment


def test_rules_that_may_refuse_values_fence_their_first_segment() -> None:
    url_map = make_map(RULE_SETS["bounds and custom"])
    positive = positive_matcher(url_map, "")
    assert positive is not None
    assert {"n", "d", "even"} <= positive.fenced
    assert not positive.takes("/n/9", "GET")  # int(max=5) is found first and refuses 9: Werkzeug says 404
    assert werkzeug_says(url_map, "/n/9", "GET") is False
    assert positive.takes("/free/9", "GET")
    assert positive_matcher(make_map(RULE_SETS["variable first segment, refusing"]), "") is None


def test_rules_added_later_are_seen() -> None:
    url_map = Map([Rule("/a/<n>", endpoint="a")])
    urls = MapURLs(url_map)
    assert urls.match("/b/1", "GET") is False
    assert urls.match("/a/9", "GET") is True
    url_map.add(Rule("/b/<int:n>", endpoint="b"))
    assert urls.match("/b/1", "GET") is True
    url_map.add(Rule("/a/<int(max=3):n>", endpoint="a"))  # an endpoint it had: tried first (int), refuses 9
    assert urls.match("/a/9", "GET") == werkzeug_says(url_map, "/a/9", "GET") is False
    url_map.add(Rule("/c/<int(max=3):n>", endpoint="c"))
    url_map.update()  # someone built a URL in between
    assert urls.match("/c/9", "GET") is False


def test_host_matching_maps_are_never_shortcut() -> None:
    url_map = Map([Rule("/a", endpoint="a", host="example.com")], host_matching=True)
    assert positive_matcher(url_map, "") is None
    assert MapURLs(url_map).match("/a", "GET") is None


SEGMENT = st.sampled_from(["a", "b", "1", "22", "x.y", "%20", "\u00e9", "", "-4", "7.25"])
CONVERTER = st.sampled_from(
    ["", "int:", "int(signed=True):", "int(max=9):", "float:", "string(minlength=2):", "path:", "any(a, b):", "even:"]
)


@st.composite
def rule_text(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            pieces.append(draw(st.sampled_from(["a", "b", "1", "x.y", "\u00e9"])))
        else:
            pieces.append(f"<{draw(CONVERTER)}v{len(pieces)}>")
    return "/" + "/".join(pieces) + draw(st.sampled_from(["", "/"]))


#: Random rule sets, each rule ``(text, methods, strict_slashes)`` (see :func:`random_map`).
RANDOM_RULES = st.lists(
    st.tuples(rule_text(), st.sampled_from([None, ("GET",), ("POST",)]), st.booleans()), min_size=1, max_size=6
)
#: Random paths, as lists of segments.
RANDOM_PATHS = st.lists(st.lists(SEGMENT, min_size=0, max_size=4), min_size=1, max_size=12)
RANDOM_METHODS = st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"])


def random_map(rules: list[tuple[str, Any, bool]]) -> Map | None:
    """A map of the rules Werkzeug accepts among ``rules`` (``None``: it refuses the set)."""
    built = []
    for index, (text, methods, strict) in enumerate(rules):
        try:
            built.append(Rule(text, endpoint=f"e{index}", methods=methods, strict_slashes=strict))
        except ValueError:
            continue
    try:
        return make_map(built)
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(RANDOM_RULES, RANDOM_PATHS, RANDOM_METHODS)
def test_random_rule_sets(rules: list[tuple[str, Any, bool]], paths: list[list[str]], method: str) -> None:
    url_map = random_map(rules)
    if url_map is None:
        return
    urls = MapURLs(url_map)
    for segments in paths:
        path = "/" + "/".join(segments)
        assert hub_says(urls, path, method) == werkzeug_says(url_map, path, method), (path, method)
