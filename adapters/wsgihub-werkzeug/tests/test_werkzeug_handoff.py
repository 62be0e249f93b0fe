"""The match a graft hands to its app is exactly Werkzeug's own: the same rule, the same values.

:meth:`MapURLs.answer <wsgihub_werkzeug.urls.MapURLs.answer>` answers a yes
with a :class:`~wsgihub_werkzeug.fastmatch.Handed` (rule and converted
values) when the path's first segment is one only one rule can take; the
Flask adapter's graft then skips Flask's second match.  Compared here with
``MapAdapter.match(return_rule=True)`` over the rule sets and path spellings
of ``test_werkzeug_fastmatch.py`` and random rule sets, and
:meth:`Handed.fits` against adapters bound as Flask binds them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from test_werkzeug_fastmatch import (
    METHODS,
    PATHS,
    RANDOM_METHODS,
    RANDOM_PATHS,
    RANDOM_RULES,
    RULE_SETS,
    make_map,
    random_map,
)
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder
from wsgihub_werkzeug.fastmatch import Handed
from wsgihub_werkzeug.urls import PLACEHOLDER_HOST, MapURLs

#: The rule sets again, without the rules that start with a variable (which turn the hand-off off).
SETS = {
    **RULE_SETS,
    **{
        f"{name}, fixed first segments": [r for r in rules if not str(getattr(r, "rule", "/x")).startswith(("/<", "/pre-"))]
        for name, rules in RULE_SETS.items()
    },
}


def werkzeug_match(url_map: Map, path: str, method: str) -> Any:
    """``(rule, values)`` from Werkzeug, or the error's type name."""
    if not path.isascii():
        path = path.encode("latin-1").decode("utf-8", "replace")
    try:
        return url_map.bind(PLACEHOLDER_HOST, "/").match(path, method, return_rule=True)
    except Exception as error:  # noqa: BLE001 - compared by name
        return type(error).__name__


def check(url_map: Map, urls: MapURLs, path: str, method: str) -> bool:
    """Whether a match was handed for ``path``; if so, that it is Werkzeug's."""
    answer = urls.answer(path, method)
    assert bool(answer) == bool(urls.match(path, method)), (path, method)
    if not isinstance(answer, Handed):
        return False
    expected = werkzeug_match(url_map, path, method)
    assert isinstance(expected, tuple), (path, method, expected)
    rule, values = expected
    assert answer.rule is rule, (path, method, answer.rule, rule)
    assert answer.values == values and [type(v) for v in answer.values.values()] == [type(v) for v in values.values()]
    return True


@pytest.mark.parametrize("name", sorted(SETS))
@pytest.mark.parametrize(
    "options", [{}, {"merge_slashes": False, "strict_slashes": False}, {"redirect_defaults": False}], ids=str
)
def test_a_handed_match_is_werkzeugs(name: str, options: dict[str, Any]) -> None:
    url_map = make_map(SETS[name], **options)
    urls = MapURLs(url_map)
    urls.match("/", "GET")  # the shortcut is built at the first question
    handed = sum(check(url_map, urls, path, method) for path in PATHS for method in METHODS)
    if name in ("flask-like, fixed first segments", "methods, fixed first segments"):
        assert handed, "no match was ever handed"


def test_only_a_first_segment_one_rule_can_take_is_handed() -> None:
    url_map = Map(
        [
            Rule("/reports/<int:pk>", endpoint="report", methods=["GET"]),
            Rule("/items/<int:n>", endpoint="item"),
            Rule("/items/<int:n>/edit", endpoint="edit"),
            Rule("/n/<int(max=5):n>", endpoint="bounded"),
            Rule("/files/<path:name>", endpoint="files"),
        ]
    )
    urls = MapURLs(url_map)
    urls.match("/", "GET")
    report = urls.answer("/reports/07", "GET")
    assert isinstance(report, Handed) and report.values == {"pk": 7} and report.rule.endpoint == "report"
    assert urls.answer("/reports/7", "POST") is False  # Werkzeug's 405: not taken
    assert urls.answer("/items/3", "GET") is True  # two rules start with 'items': a yes, not handed
    assert urls.answer("/n/3", "GET") is True  # a bounded converter: Werkzeug's own answer
    files = urls.answer("/files/a/b.css", "GET")
    assert isinstance(files, Handed) and files.values == {"name": "a/b.css"}
    assert urls.match("/reports/7", "GET") is True  # match() stays a bool
    url_map.add(Rule("/<slug>", endpoint="page"))  # a rule that may take any first segment
    assert urls.answer("/reports/7", "GET") is True


def bound_as_flask(url_map: Map, path: str, method: str = "GET", **environ: Any) -> Any:
    """The adapter Flask binds for a request (``bind_to_environ`` with the default subdomain)."""
    built = EnvironBuilder(path=path, method=method, **environ).get_environ()
    built["PATH_INFO"] = path
    return url_map.bind_to_environ(built, subdomain=url_map.default_subdomain or "")


def test_a_handed_match_fits_only_the_adapter_matching_the_same_thing() -> None:
    url_map = Map([Rule("/reports/<int:pk>", endpoint="report")])
    urls = MapURLs(url_map)
    urls.match("/", "GET")
    handed = urls.answer("/reports/3", "GET")
    assert isinstance(handed, Handed)
    assert handed.fits(bound_as_flask(url_map, "/reports/3"))
    assert not handed.fits(bound_as_flask(url_map, "/reports/4"))  # a middleware rewrote the path
    assert not handed.fits(bound_as_flask(url_map, "/reports/3", "POST"))
    upgrade = {"headers": {"Connection": "Upgrade", "Upgrade": "websocket"}}
    assert not handed.fits(bound_as_flask(url_map, "/reports/3", **upgrade))
    other = Map([Rule("/reports/<int:pk>", endpoint="report")])
    assert not handed.fits(bound_as_flask(other, "/reports/3"))  # another map
    assert not handed.fits(url_map.bind_to_environ(EnvironBuilder(path="/reports/3").get_environ(), subdomain="x"))
    url_map.add(Rule("/reports/<int:pk>/x", endpoint="more"))
    assert not handed.fits(bound_as_flask(url_map, "/reports/3"))  # the map changed since


@settings(max_examples=300, deadline=None)
@given(RANDOM_RULES, RANDOM_PATHS, RANDOM_METHODS)
def test_random_rule_sets(rules: list[tuple[str, Any, bool]], paths: list[list[str]], method: str) -> None:
    url_map = random_map(rules)
    if url_map is None:
        return
    urls = MapURLs(url_map)
    urls.match("/", method)
    for segments in paths:
        check(url_map, urls, "/" + "/".join(segments), method)
