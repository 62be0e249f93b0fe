"""Grafts: which routes a graft takes (rules across frameworks), safe fall-through, scoping, the report.

Real Flask, Django and Pyramid apps are grafted in the adapters' own suites
(``test_*_grafts.py``); here the testing kit's reference framework stands
in, and :mod:`wsgihub.rules` is checked on each framework's rule grammar.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from wsgihub import Hub, MountWarning
from wsgihub.cli import main
from wsgihub.deploy import load
from wsgihub.errors import ConfigError, DeployError, MountError
from wsgihub.rules import DISJOINT, PARTIAL, TAKES, overlap, parse_rule
from wsgihub.testing import ReferenceApp, call, echo_app, make_environ, reference_hub

# the live apps live next to this file (also under pytest --import-mode=importlib)
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_apps._process import ServeProcess


# -- rules across frameworks ----------------------------------------------------------------------
def werkzeug(rule: str) -> Any:
    return parse_rule(rule, "werkzeug")


def django(route: str) -> Any:
    return parse_rule(route, "django")


def regex(text: str) -> Any:
    return parse_rule("", "django", regex=text)


def pyramid(pattern: str) -> Any:
    return parse_rule(pattern, "pyramid")


RULE_CASES = [
    # (graft route, route beneath, verdict)
    (werkzeug("/"), django(""), TAKES),
    (werkzeug("/about"), django("about/"), DISJOINT),
    (werkzeug("/about/"), django("about/"), TAKES),
    (werkzeug("/about/"), django("about"), TAKES),  # Werkzeug redirects /about to /about/
    (werkzeug("/blog/<int:pk>/"), django("blog/<int:pk>/"), TAKES),
    (werkzeug("/blog/<pk>/"), django("blog/<int:pk>/"), TAKES),
    (werkzeug("/blog/<int:pk>/"), django("blog/<str:pk>/"), PARTIAL),
    (werkzeug("/blog/<int:pk>/"), django("blog/<slug:slug>/"), PARTIAL),
    (werkzeug("/blog/<int:pk>"), django("blog/<int:pk>/"), DISJOINT),
    (werkzeug("/<path:rest>"), django("blog/<int:pk>/"), TAKES),
    (werkzeug("/<path:rest>"), django(""), DISJOINT),  # a path converter needs one character
    (werkzeug("/static/<path:filename>"), django("static/<path:path>"), TAKES),
    (werkzeug("/static/<path:filename>"), regex(r"/static/(?:.*)"), PARTIAL),  # static(): '/static/' too
    (werkzeug("/static/<path:filename>"), django("admin/"), DISJOINT),
    (werkzeug("/<any(en,fr):lang>/"), django("en/"), TAKES),
    (werkzeug("/<any(en,fr):lang>/"), django("<slug:lang>/"), PARTIAL),
    (werkzeug("/u/<uuid:u>"), django("u/<uuid:u>"), TAKES),
    (werkzeug("/u/<int:n>"), django("u/<uuid:u>"), DISJOINT),
    (werkzeug("/archive/<int:year>/"), regex(r"/archive/(?:[0-9]{4})/"), TAKES),
    (werkzeug("/archive/<string(length=4):y>/"), regex(r"/archive/(?:[0-9]{4})/"), TAKES),
    (werkzeug("/archive/<int:year>/"), regex(r"/archive/.*"), PARTIAL),  # re_path without $
    (werkzeug("/x/<int:n>"), regex(r"/(?i:X)/[0-9]+"), PARTIAL),  # case-insensitive regex
    (pyramid("/static/*subpath"), django("static/<path:p>"), TAKES),
    (pyramid("/u/{uid}"), django("u/<int:uid>"), TAKES),
    (pyramid("/u/{uid:\\d+}"), django("u/<str:uid>"), PARTIAL),
    (pyramid("u/:uid"), werkzeug("/u/<uid>"), TAKES),
    (pyramid("/*rest"), werkzeug("/anything/<path:p>"), TAKES),
    (werkzeug("/a/<int:n>"), regex(r"/a/(?=1)[0-9]+"), PARTIAL),  # a look-ahead: compared on samples
]


@pytest.mark.parametrize(("graft", "beneath", "verdict"), RULE_CASES, ids=[f"{g.regex} vs {b.regex}" for g, b, _ in RULE_CASES])
def test_what_a_route_takes_from_a_route_beneath(graft: Any, beneath: Any, verdict: str) -> None:
    assert overlap(graft, beneath) == verdict


def test_an_uncompilable_regex_is_read_literally() -> None:
    pattern = parse_rule("(unbalanced/", "django", regex="/(unbalanced/")
    assert pattern.matches("/(unbalanced/")


# -- apps -----------------------------------------------------------------------------------------
class Routed(ReferenceApp):
    """The reference framework, answering ``name:endpoint``; ``missing`` paths answer 404 though routed."""

    def __init__(
        self,
        name: str,
        routes: Mapping[str, str],
        *,
        methods: Mapping[str, tuple[str, ...]] | None = None,
        missing: tuple[str, ...] = (),
    ) -> None:
        super().__init__(name, routes, methods=methods)
        self.missing = set(missing)

    def render(self, environ: dict[str, Any], endpoint: str, values: Mapping[str, Any]) -> str:
        return f"{self.name}:{endpoint}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if (environ.get("PATH_INFO") or "/") in self.missing and self.resolve(environ["PATH_INFO"], environ["REQUEST_METHOD"]):
            self.calls.append(environ["PATH_INFO"])
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"{self.name} has no such file".encode()]
        return super().__call__(environ, start_response)


def legacy_app(global_conf: Any = None, **settings: Any) -> Routed:
    return Routed(
        "legacy",
        {"home": "/", "detail": "/blog/<int:pk>/", "about": "/about", "static": "/static/<f>", "form": "/form"},
        methods={"form": ("GET", "HEAD", "POST")},
    )


def new_app(global_conf: Any = None, **options: Any) -> Routed:
    return Routed(
        "new",
        {"index": "/", "user": "/users/<uid>", "user.edit": "/users/<uid>/edit", "static": "/static/<f>", "form": "/form"},
        methods={"form": ("GET", "HEAD", "POST"), "user.edit": ("POST",)},
        **options,
    )


@pytest.fixture
def hub() -> Hub:
    hub = reference_hub()
    hub.mount("/", legacy_app(), name="legacy")
    return hub


def graft(hub: Hub, app: Any, **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MountWarning)
        return hub.graft(app, over="legacy", name="new", **options)


# -- safe by default ----------------------------------------------------------------------------------
def test_a_404_to_get_or_head_falls_through_to_the_app_beneath(hub: Hub) -> None:
    new = new_app(missing=("/static/admin.css", "/form"))
    graft(hub, new)
    assert call(hub, "/static/app.css").text == "new:static"
    assert call(hub, "/static/admin.css").text == "legacy:static"  # both apps' static files work
    assert call(hub, "/static/admin.css", "HEAD").code == 200
    assert call(hub, "/form").text == "legacy:form"
    beneath = hub.peg("legacy").app
    assert new.calls == ["/static/app.css", "/static/admin.css", "/static/admin.css", "/form"]
    assert beneath.calls == ["/static/admin.css", "/static/admin.css", "/form"]  # type: ignore[attr-defined]


def test_any_other_method_runs_in_one_app_only(hub: Hub) -> None:
    new = new_app(missing=("/form",))
    graft(hub, new)
    answer = call(hub, "/form", "POST", CONTENT_LENGTH="3", **{"wsgi.input": io.BytesIO(b"a=1")})
    assert (answer.code, answer.text) == (404, "new has no such file")
    assert new.calls == ["/form"]
    assert hub.peg("legacy").app.calls == []  # type: ignore[attr-defined]
    assert call(hub, "/users/5/edit", "POST").text == "new:user.edit"
    assert call(hub, "/about", "POST").code == 405  # no graft route: beneath answers, once


def test_fall_through_false_makes_the_grafts_answer_final(hub: Hub) -> None:
    graft(hub, new_app(missing=("/static/admin.css",)), fall_through=False)
    assert call(hub, "/static/admin.css").code == 404
    assert hub.peg("legacy").app.calls == []  # type: ignore[attr-defined]


def test_the_successful_body_streams_only_the_status_is_peeked(hub: Hub) -> None:
    produced: list[int] = []

    def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        for index in range(3):
            produced.append(index)
            yield b"chunk%d " % index

    class StreamingApp(Routed):
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            return streaming(environ, start_response)

    graft(hub, StreamingApp("new", {"big": "/big"}))
    statuses: list[str] = []
    body = hub(make_environ("/big"), lambda s, h, e=None: statuses.append(s))
    assert statuses == ["200 OK"] and produced == [0]  # the first chunk told the status; nothing more read
    assert b"".join(body) == b"chunk0 chunk1 chunk2 " and produced == [0, 1, 2]
    getattr(body, "close", lambda: None)()


def test_a_taken_get_reaches_the_server_as_without_a_graft(hub: Hub) -> None:
    """Anything but a 404 goes straight to the server's start_response: write() and exc_info work."""
    written: list[bytes] = []

    class Writing(Routed):
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            if environ["PATH_INFO"] == "/lazy-404":
                return self.lazy_404(start_response)
            environ["new.was.here"] = True
            try:
                raise ValueError("boom")
            except ValueError:
                start_response("404 Not Found", [])  # replaced below, as PEP 3333 allows
                write = start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            write(b"written ")
            return [b"returned"]

        def lazy_404(self, start_response: Any) -> Iterator[bytes]:
            start_response("404 Not Found", [])
            yield b"new has nothing"

    graft(hub, Writing("new", {"w": "/w", "lazy": "/lazy-404"}))
    started: list[tuple[str, Any]] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        started.append((status, exc_info is not None))
        return written.append

    environ = make_environ("/w")
    body = hub(environ, start_response)
    assert started == [("500 Internal Server Error", True)] and written == [b"written "]
    assert b"".join(body) == b"returned" and environ["new.was.here"] is True

    environ = make_environ("/lazy-404")  # a generator app: its 404 is seen at the first chunk
    started.clear()
    answer = b"".join(hub(environ, start_response))
    assert started == [("404 Not Found", False)] and answer == b"not found in legacy"  # the app beneath answered
    assert environ["pegboard.peg"].name == "legacy"


def test_after_a_404_the_app_beneath_sees_the_request_as_it_arrived() -> None:
    class Scribbling(Routed):
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            environ["PATH_INFO"] = "/scribbled"
            environ["new.was.here"] = True
            start_response("404 Not Found", [])
            return [b"new has nothing"]

    seen: list[dict[str, Any]] = []
    beneath = legacy_app()

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(dict(environ))
        return beneath(environ, start_response)

    hub = reference_hub()
    hub.mount("/", spy, name="legacy")
    graft(hub, Scribbling("new", {"about": "/about"}))
    assert call(hub, "/about").text == "legacy:about"
    assert seen[0]["PATH_INFO"] == "/about" and "new.was.here" not in seen[0]


def test_a_second_graft_gets_the_404_of_the_first_before_the_app_beneath(hub: Hub) -> None:
    graft(hub, new_app(missing=("/static/x.css",)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MountWarning)
        hub.graft(Routed("assets", {"files": "/static/<f>"}), over="legacy", name="assets")
    assert call(hub, "/static/x.css").text == "assets:files"


def test_an_unreadable_graft_gets_get_and_head_only(hub: Hub) -> None:
    ran: list[str] = []

    def plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        ran.append(environ["REQUEST_METHOD"])
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"plain has nothing"]

    graft(hub, plain)
    assert call(hub, "/about").text == "legacy:about"  # GET: tried, its 404 falls through
    assert call(hub, "/form", "POST").text == "legacy:form"  # POST: never sent to it
    assert ran == ["GET"]
    graft_peg = hub.peg("new")
    hub.unmount(graft_peg)
    graft(hub, echo_app("plain"))
    assert call(hub, "/about").text.startswith("plain")
    finding = [f for f in hub.findings() if f.id == "I010"]
    assert finding and finding[0].level == "info" and finding[0].mounts == ("new", "legacy")


def test_the_gate_asks_the_router_only_where_a_route_may_start(hub: Hub) -> None:
    numbers = Routed("numbers", {"num": "/<int:n>", "deep": "/files/<f>"})
    graft(hub, numbers)
    assert call(hub, "/5").text == "numbers:num"  # a variable first segment: every path is asked
    assert call(hub, "/about").text == "legacy:about"
    hub.unmount("new")
    literal = Routed("new", {"deep": "/files/<f>", "page": "/pag<e>"})
    graft(hub, literal)
    assert call(hub, "/files/a").text == "new:deep"
    assert call(hub, "/pagex").text == "new:page"  # a first segment that starts with a literal
    assert call(hub, "/about").text == "legacy:about"
    asked = list(literal.calls)
    literal.rules["about"] = type(literal.rules["deep"])("about", "/about", frozenset({"GET", "HEAD"}))
    assert call(hub, "/about").text == "legacy:about"  # routes gained later: seen after a rebuild
    hub.mount("/other", echo_app("other"))
    assert call(hub, "/about").text == "new:about"
    assert literal.calls == [*asked, "/about"]



def test_kept_answers_start_over_when_full_and_stay_right(hub: Hub) -> None:
    """More distinct paths than a graft keeps answers for: each still goes where its router says."""
    from wsgihub.grafts import VERDICT_CACHE_SIZE

    graft(hub, new_app())
    for i in range(VERDICT_CACHE_SIZE + 50):
        assert call(hub, f"/users/{i}").text == "new:user"
        if i % 97 == 0:
            assert call(hub, f"/blog/{i}/").text == "legacy:detail"
            assert call(hub, f"/users/{i}/edit", "POST").text == "new:user.edit"
            assert call(hub, f"/users/{i}/edit").code == 404  # POST only in the graft, nothing beneath
    assert call(hub, "/users/3").text == "new:user"  # asked again after starting over


@pytest.mark.parametrize("status", ["404 Not Found", "404", "4040 Odd", "405 Method Not Allowed", "40 Short", "200 OK"])
def test_only_a_404_status_falls_through(status: str) -> None:
    def graft_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [b"graft"]

    site = Hub()
    site.mount("/", echo_app("legacy"), name="legacy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MountWarning)
        site.graft(graft_app, over="legacy", name="new")
    answer = call(site, "/x")
    assert (answer.text == "graft") is (not status.startswith("404"))


# -- scoping ----------------------------------------------------------------------------------------------
def test_only_takes_the_named_routes_and_the_rest_goes_beneath(hub: Hub) -> None:
    graft(hub, new_app(), only=["index", "user*"])
    assert call(hub, "/").text == "new:index"
    assert call(hub, "/users/3").text == "new:user"
    assert call(hub, "/users/3/edit", "POST").text == "new:user.edit"
    assert call(hub, "/static/a.css").text == "legacy:static"  # out of scope
    assert call(hub, "/form", "POST").text == "legacy:form"


def test_exclude_and_full_names(hub: Hub) -> None:
    graft(hub, new_app(), exclude="new:static form")  # a string is split at white space
    assert call(hub, "/").text == "new:index"
    assert call(hub, "/static/a.css").text == "legacy:static"
    assert call(hub, "/form").text == "legacy:form"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"only": 5}, "graft 'new': only must be endpoint names or globs, not int"),
        ({"exclude": ["ok", ""]}, "graft 'new': exclude must be endpoint names or globs, not ''"),
        ({"fall_through": "no"}, "graft 'new': fall_through must be True or False, not 'no'"),
    ],
)
def test_bad_scope_arguments_are_one_line(hub: Hub, options: dict[str, Any], message: str) -> None:
    with pytest.raises(MountError, match=message):
        hub.graft(new_app(), over="legacy", name="new", **options)
    assert "new" not in hub


def test_a_pattern_naming_nothing_is_a_finding(hub: Hub) -> None:
    graft(hub, new_app(), only=["index", "usr*"])
    found = [f for f in hub.findings() if f.id == "W012"]
    assert [f.message for f in found] == ["graft 'new': only/exclude pattern 'usr*' names no endpoint of it"]


# -- what a graft takes: findings and the report -----------------------------------------------------------
def test_findings_name_both_sides(hub: Hub) -> None:
    with pytest.warns(MountWarning, match=r"graft 'new' takes 3 route\(s\) of 'legacy'"):
        hub.graft(new_app(), over="legacy", name="new")
    found = {(f.id, f.message) for f in hub.findings()}
    assert ("W010", "new:index takes '/' from legacy:home") in found
    assert ("W010", "new:static takes '/static/<f>' from legacy:static") in found
    assert ("W010", "new:form takes '/form' from legacy:form") in found
    assert all(f.mounts == ("new", "legacy") for f in hub.findings())
    assert hub.check() == [f.message for f in hub.findings()]


def test_partial_overlaps_and_methods() -> None:
    hub = reference_hub()
    hub.mount("/", Routed("legacy", {"page": "/<slug>", "form": "/form"}, methods={"form": ("GET", "HEAD", "POST")}), name="legacy")
    graft(hub, Routed("new", {"num": "/<int:n>", "form": "/form"}))
    found = {(f.id, f.message) for f in hub.findings()}
    assert found == {
        ("W011", "new:num takes part of '/<slug>' from legacy:page (its rule '/<int:n>' overlaps it)"),
        ("W011", "new:form takes part of '/<slug>' from legacy:page (its rule '/form' overlaps it)"),
        ("W010", "new:form takes '/form' from legacy:form for GET, HEAD; other methods stay with legacy"),
    }


def test_silenced_ids_are_left_out_everywhere() -> None:
    hub = Hub(silence="W010, w011", plugins=reference_hub().plugins)
    hub.mount("/", legacy_app(), name="legacy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MountWarning)
        hub.graft(new_app(), over="legacy", name="new")
    assert hub.findings() == [] and hub.check() == []
    with pytest.raises(ConfigError, match="silence: expected finding ids"):
        Hub(silence=5)  # type: ignore[arg-type]


def test_the_migration_report(hub: Hub) -> None:
    graft(hub, new_app(), only=["index", "user*", "static"])
    (report,) = hub.graft_report()
    assert [t.taken.name for t in report.takes] == ["legacy:home", "legacy:static"]
    assert [r.name for r in report.adds] == ["new:user", "new:user.edit"]
    assert [r.name for r in report.leaves] == ["legacy:detail", "legacy:about", "legacy:form"]
    assert [r.name for r in report.out_of_scope] == ["new:form"]
    assert report.summary == "new takes 2 of 5 routes of legacy (adds 2, leaves 1 of its own out of scope)"
    data = report.as_dict()
    assert data["only"] == ["index", "user*", "static"] and data["fall_through"] is True
    assert data["takes"][0]["route"]["name"] == "new:index" and data["takes"][0]["taken"]["rule"] == "/"


# -- site files and the CLI -------------------------------------------------------------------------------
SITE = """
[composite:main]
use = egg:wsgihub#hub
/ = legacy
graft new = legacy
{extra}

[app:legacy]
use = call:test_grafts:legacy_app

[app:new]
use = call:test_grafts:new_app
"""


@pytest.fixture
def site_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Writes a site file; the reference adapter is installed as a real entry point (the CLI loads plugins)."""
    (tmp_path / "g1_reference_plugin.py").write_text(
        "from wsgihub.testing.reference import ReferencePlugin\nplugin = ReferencePlugin()\n"
    )
    dist = tmp_path / "wsgihub_g1_reference-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: wsgihub-g1-reference\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[wsgihub]\nreference = g1_reference_plugin:plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.delenv("WSGIHUB_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("WSGIHUB_BLOCK_PLUGINS", raising=False)

    def write(extra: str = "") -> Path:
        path = tmp_path / "site.ini"
        path.write_text(SITE.format(extra=textwrap.dedent(extra)))
        return path

    return write


def test_site_file_scope_fall_through_and_silence(site_file: Any) -> None:
    path = site_file("graft new only = index user*\ngraft new fall_through = false\nsilence = W010")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MountWarning)  # W010 silenced: loading says nothing
        hub = load(str(path))
    sharing = hub.peg("new").sharing
    assert sharing is not None and sharing.only == ("index", "user*") and sharing.fall_through is False
    assert call(hub, "/static/x").text == "legacy:static"
    assert hub.findings() == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("graft new fall_through = maybe", "graft new fall_through = maybe: fall_through must be true or false"),
        ("graft other only = x", "'graft other ...' options given, but no 'graft other = MOUNT' line grafts it"),
        ("graft new extra = x", "graft new extra = x: expected 'graft SECTION = MOUNT' (one section name)"),
    ],
)
@pytest.mark.filterwarnings("ignore::wsgihub.MountWarning")
def test_site_file_graft_keys_refused_in_one_line(site_file: Any, extra: str, message: str) -> None:
    with pytest.raises(DeployError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(str(site_file(extra)))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_json_and_fail_level(site_file: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(site_file())
    code, out, err = run(capsys, "check", path, "--json")
    assert (code, err) == (1, "")
    findings = json.loads(out)
    assert {"id": "W010", "level": "warning", "message": "new:index takes '/' from legacy:home", "mounts": ["new", "legacy"]} in findings
    assert run(capsys, "check", path, "--fail-level", "error")[0] == 0
    code, out, _ = run(capsys, "check", path)
    assert "WARN W010 new:index takes '/' from legacy:home" in out.splitlines()
    quiet = str(site_file("silence = W010 W011"))
    assert run(capsys, "check", quiet, "--json")[:2] == (0, "[]\n")
    assert run(capsys, "check", str(Path(path).with_name("missing.ini")), "--json")[0] == 2


def test_routes_show_the_graft_taking_each_route(site_file: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(site_file("graft new exclude = static"))
    code, out, _ = run(capsys, "routes", path, "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["legacy:home"]["taken_by"] == [{"name": "new:index", "overlap": "takes"}]
    assert rows["legacy:static"]["taken_by"] == []
    _, out, _ = run(capsys, "routes", path)
    line = next(line for line in out.splitlines() if line.startswith("legacy:home "))
    assert out.splitlines()[0].split()[-2:] == ["TAKEN", "BY"] and line.endswith("new:index")


def test_routes_grafts_is_the_migration_report(site_file: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(site_file("graft new only = index"))
    code, out, _ = run(capsys, "routes", path, "--grafts")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "graft new over legacy (only index)"
    assert "    new:index takes '/' from legacy:home" in lines
    assert lines[-1] == "  new takes 1 of 5 routes of legacy (adds 0, leaves 4 of its own out of scope)"
    code, out, _ = run(capsys, "routes", path, "--grafts", "--json")
    (report,) = json.loads(out)
    assert report["summary"] == lines[-1].strip() and [t["taken"]["name"] for t in report["takes"]] == ["legacy:home"]


# -- moving a route back: a one-line site-file change that serve --reload picks up -------------------------
_LIVE_APPS = '''
from wsgihub.testing.reference import ReferenceApp


class Named(ReferenceApp):
    def render(self, environ, endpoint, values):
        return f"{self.name}:{endpoint}"


def legacy(global_conf=None, **settings):
    return Named("legacy", {"home": "/", "about": "/about"})


def new(global_conf=None, **settings):
    return Named("new", {"index": "/", "about": "/about"})
'''


@pytest.mark.live
def test_serve_reload_picks_up_a_route_moved_back(tmp_path: Path, site_file: Any) -> None:
    (tmp_path / "g1_live_apps.py").write_text(_LIVE_APPS)
    site = tmp_path / "live.ini"
    text = SITE.replace("test_grafts:legacy_app", "g1_live_apps:legacy").replace("test_grafts:new_app", "g1_live_apps:new")
    site.write_text(text.format(extra="silence = W010\ngraft new exclude ="))
    with ServeProcess([str(site), "--port", "0", "--reload"], pythonpath=[tmp_path]) as served:
        url = served.url(timeout=30)
        assert requests.get(url + "/about", timeout=5).text == "new:about"
        site.write_text(text.format(extra="silence = W010\ngraft new exclude = about"))  # the one-line change
        stamp = time.time()
        for _ in range(20):  # push the mtime forward until the reloader says it saw the change
            stamp += 2
            os.utime(site, (stamp, stamp))
            try:
                served.wait_for_line("live.ini changed; reloading", 1.5, stderr=True)
                break
            except AssertionError as exc:
                if "process exited" in str(exc):
                    raise
        else:
            raise AssertionError(f"the reloader never saw the change: {served.stderr}")
        assert served.url(timeout=30) == url
        assert requests.get(url + "/about", timeout=5).text == "legacy:about"
        assert requests.get(url + "/", timeout=5).text == "new:index"
        served.signal(signal.SIGTERM)
        served.wait(timeout=15)
