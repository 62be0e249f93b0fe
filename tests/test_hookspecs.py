"""Every hook is specified, documented with its exact signature, tested, and works.

The first part is datasette's discipline, checked against what pluggy really
calls: every ``wsgihub_*`` spec (the argument names of the spec registered on
a hub's plugin manager, in order) has exactly one heading
``### wsgihub_x(arg, ...)`` in ``docs/hooks.md`` with those names in that
order, a row in the table at the top linking to that heading, a
``firstresult: yes|no`` line that matches the spec, and ``**Called**`` and
``**Returns**`` paragraphs; every ``def wsgihub_*`` shown in the docs' code
takes only the spec's arguments, in the spec's order.  Every hook also has a
test named after it (in a file that implements it) and a docstring that says
when it is called.  The second part is those tests: each hook exercised
through the public API with a small plugin registered on one hub's own plugin
manager (so nothing outlives it).
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from wsgi_helpers import call

import wsgihub
from wsgihub import Adapter, hookimpl, hookspecs
from wsgihub.adapter import detect
from wsgihub.errors import MountError, NoSuchServiceName
from wsgihub.plugins import make_plugins
from wsgihub.testing import ReferenceAdapter, ReferenceApp


def echo_app(name: str) -> Any:
    """A plain WSGI app answering ``name SCRIPT_NAME|PATH_INFO``."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name} {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]

    return app


ROOT = Path(__file__).resolve().parent.parent
HOOKS_DOC = ROOT / "docs" / "hooks.md"
#: Pages whose code may show hook implementations; their ``def wsgihub_*`` are checked.
DOCS_WITH_CODE = sorted(ROOT.glob("docs/*.md")) + [ROOT / "README.md"]

SPECS: dict[str, Any] = {
    name: obj for name, obj in vars(hookspecs).items() if name.startswith("wsgihub_") and callable(obj)
}


@functools.cache
def spec_argnames(name: str) -> tuple[str, ...]:
    """The arguments pluggy calls hook ``name`` with: its registered spec's, in order."""
    caller = getattr(make_plugins(autoload=False).manager.hook, name)
    assert caller.spec is not None, f"{name} has no spec on the plugin manager"
    return tuple(caller.spec.argnames)


def signature(name: str) -> str:
    """``wsgihub_x(a, b)``: how a hook's heading must read (datasette's form)."""
    return f"{name}({', '.join(spec_argnames(name))})"


# -- reading docs/hooks.md ----------------------------------------------------------------------
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*$", re.MULTILINE)
#: A heading that documents a hook: ``### wsgihub_adapter(app, layers, framework)``.
HOOK_HEADING = re.compile(r"^`?(wsgihub_\w+)\((.*)\)`?$")
#: A row of the table of hooks: ``| [`wsgihub_x`](#anchor) | called | yes |``.
TABLE_ROW = re.compile(
    r"^\|\s*\[`(wsgihub_\w+)`\]\(#([^)]*)\)\s*\|[^|]*\|\s*(\w+)\s*\|\s*$", re.MULTILINE
)


def headings(text: str) -> list[tuple[str, str]]:
    """Every heading outside code blocks, with the text up to the next heading."""
    # Blank out code blocks (same length, so offsets hold): a '# comment' there is no heading.
    prose = re.sub(
        r"^```.*?^```", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.MULTILINE | re.DOTALL
    )
    found = list(HEADING.finditer(prose))
    return [
        (m.group(2), text[m.end() : found[i + 1].start() if i + 1 < len(found) else len(text)])
        for i, m in enumerate(found)
    ]


def hook_sections() -> list[tuple[str, str, str]]:
    """``(hook name, heading text, section text)`` for each heading that names a hook."""
    out = []
    for title, body in headings(HOOKS_DOC.read_text()):
        if "wsgihub_" in title:
            match = HOOK_HEADING.match(title)
            assert match, f"docs/hooks.md: heading {title!r} names a hook but is not 'name(args)'"
            out.append((match.group(1), title.strip("`"), body))
    return out


def github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def documented_defs() -> list[tuple[str, str, list[str]]]:
    """``(page, hook name, parameter names)`` of each ``def wsgihub_*`` in the docs' code."""
    found = []
    for page in DOCS_WITH_CODE:
        for block in re.findall(r"^```python\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL):
            if "def wsgihub_" not in block:
                continue
            try:
                tree = ast.parse(block)
            except SyntaxError as exc:
                pytest.fail(f"{page.name}: a code block with a hook implementation is not Python: {exc}")
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("wsgihub_"):
                    args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                    found.append((page.name, node.name, [a.arg for a in args if a.arg != "self"]))
    return found


# -- the specs and their documentation ----------------------------------------------------------
def test_there_are_hookspecs() -> None:
    assert {"wsgihub_adapter", "wsgihub_unwrap", "wsgihub_start", "wsgihub_exit"} <= set(SPECS)
    for name, spec in SPECS.items():
        assert hasattr(spec, "wsgihub_spec"), spec  # marked with hookspec, not a stray function
        assert spec_argnames(name) == tuple(inspect.signature(spec).parameters), name


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    titles = [title for hook, title, _ in hook_sections() if hook == name]
    assert titles, f"docs/hooks.md has no heading '### {signature(name)}'"
    assert len(titles) == 1, f"docs/hooks.md documents {name} under {len(titles)} headings: {titles}"
    assert titles[0] == signature(name), (
        f"docs/hooks.md documents {titles[0]!r}, the spec is {signature(name)!r}"
    )


def test_docs_document_no_hook_that_does_not_exist() -> None:
    assert {hook for hook, _, _ in hook_sections()} <= set(SPECS)
    prose = re.sub(r"\]\(#[^)]*\)", "]", HOOKS_DOC.read_text())  # anchors are not names
    assert set(re.findall(r"\bwsgihub_\w+", prose)) <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_section_says_when_called_what_returns_and_firstresult(name: str) -> None:
    body = next(body for hook, _, body in hook_sections() if hook == name)
    first = bool(SPECS[name].wsgihub_spec.get("firstresult"))
    flags = re.findall(r"^firstresult: (\w+)\s*$", body, re.MULTILINE)
    assert flags == ["yes" if first else "no"], f"{name}: firstresult lines {flags}, spec says {first}"
    assert "**Called**" in body and "**Returns**" in body, name


def test_the_table_of_hooks_lists_each_once_linked_to_its_heading() -> None:
    text = HOOKS_DOC.read_text()
    rows = TABLE_ROW.findall(text)
    assert sorted(name for name, _, _ in rows) == sorted(SPECS)
    anchors = {github_anchor(title) for title, _ in headings(text)}
    for name, anchor, firstresult in rows:
        assert anchor == github_anchor(signature(name)) and anchor in anchors, (name, anchor)
        assert firstresult == ("yes" if SPECS[name].wsgihub_spec.get("firstresult") else "no"), name


def test_documented_implementations_take_the_specs_arguments_in_order() -> None:
    """pluggy calls with keywords, so a subset is allowed; an unknown or reordered name is not."""
    defs = documented_defs()
    assert {name for _, name, _ in defs} >= {"wsgihub_adapter", "wsgihub_invite"}
    for page, name, params in defs:
        assert name in SPECS, f"{page}: 'def {name}' is no hook"
        spec = spec_argnames(name)
        assert set(params) <= set(spec), f"{page}: {name}({', '.join(params)}) but the spec is {signature(name)}"
        assert params == [a for a in spec if a in params], f"{page}: {name}({', '.join(params)}) out of order"


@functools.cache
def _test_sources() -> dict[Path, str]:
    files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("adapters/*/tests/**/*.py")]
    return {f: f.read_text() for f in files}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_test_named_after_it(name: str) -> None:
    """datasette's rule: some ``def test_...<hook>...`` exercises every hook.

    The hook must also be implemented (``def <hook>(``) in that test's file, so
    a test merely named after a hook does not count.
    """
    users = [
        f
        for f, text in _test_sources().items()
        if re.search(rf"^\s*def test_\w*{name}\w*\(", text, re.MULTILINE) and re.search(rf"def {name}\(", text)
    ]
    assert users, f"no test function named after {name} (with a plugin implementing it) under tests/"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_used_by_another_test_file(name: str) -> None:
    """Besides this file's own tests, every hook is met somewhere else in the suite."""
    users = [
        f for f, text in _test_sources().items() if f.name != Path(__file__).name and re.search(rf"\b{name}\b", text)
    ]
    assert users, f"no test file other than {Path(__file__).name} mentions {name}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hookspec_docstring_says_when_it_is_called(name: str) -> None:
    doc = inspect.getdoc(SPECS[name]) or ""
    assert re.search(r"\bcalled\b", doc, re.IGNORECASE), f"{name}: docstring does not say when it is called"


# -- a tiny framework and its adapter, for the hooks to work on -------------------------------------
class TableApp(ReferenceApp):
    """The testing kit's reference framework: routes ``{endpoint: "/rule/<name>"}`` taking GET."""

    def __init__(self, name: str, table: Mapping[str, str]) -> None:
        super().__init__(name, table)

    @property
    def table(self) -> dict[str, str]:
        return {endpoint: rule.rule for endpoint, rule in self.rules.items()}


class TableAdapter(ReferenceAdapter):
    """The testing kit's reference adapter, under the framework name ``table``."""

    framework = "table"


class TablePlugin:
    """The framework plugin: recognises a :class:`TableApp` among the layers."""

    def __init__(self, events: list[str] | None = None) -> None:
        self.seen: list[tuple[object, tuple[object, ...], str | None]] = []
        self.events = events

    @hookimpl
    def wsgihub_adapter(self, app: Any, layers: Sequence[object], framework: str | None) -> Adapter | None:
        self.seen.append((app, tuple(layers), framework))
        return detect(
            layers,
            framework,
            name="table",
            find=lambda found: next((layer for layer in found if isinstance(layer, TableApp)), None),
            factory=lambda table_app, wsgi: TableAdapter(table_app, wsgi, self.events),
        )


def hub_with(*plugins: object) -> wsgihub.Hub:
    """A hub whose plugin manager has the built-ins and ``plugins`` only."""
    return wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=plugins))


# -- wsgihub_adapter ------------------------------------------------------------------------------
def test_wsgihub_adapter_gives_routes_urls_and_grafts() -> None:
    plugin = TablePlugin()
    hub = hub_with(plugin)
    users = TableApp("users", {"index": "/", "user": "/u/<uid>"})
    peg = hub.mount("/people", users)
    assert peg.framework == "table" and isinstance(peg.adapter, TableAdapter)
    assert plugin.seen[-1] == (users, (users,), None)
    assert hub.url_for("people:user", uid=5) == "/people/u/5"
    assert hub.url_for("people:user", uid=5, tab="x") == "/people/u/5?tab=x"
    assert [(r.name, r.rule, r.framework) for r in hub.routes()] == [
        ("people:index", "/people/", "table"),
        ("people:user", "/people/u/<uid>", "table"),
    ]
    # grafted over a plain app: the table's routes go to it, everything else beneath
    hub.mount("/", echo_app("base"), name="base")
    hub.graft(TableApp("extra", {"report": "/report"}), over="base", name="extra")
    assert call(hub, "/report").text == "extra:report |/report"
    assert call(hub, "/other").text == "base |/other"
    assert hub.url_for("extra:report") == "/report"


def test_wsgihub_adapter_first_result_wins() -> None:
    class Greedy:
        @hookimpl(tryfirst=True)
        def wsgihub_adapter(self, app: Any, layers: Sequence[object], framework: str | None) -> Adapter | None:
            return Adapter(app, app) if isinstance(app, TableApp) else None

    hub = hub_with(TablePlugin(), Greedy())
    assert type(hub.mount("/t", TableApp("t", {})).adapter) is Adapter


def test_wsgihub_adapter_receives_the_forced_framework() -> None:
    plugin = TablePlugin()
    hub = hub_with(plugin)
    with pytest.raises(MountError, match="no installed adapter handles framework 'flask'"):
        hub.mount("/t", TableApp("t", {}), framework="flask")
    assert plugin.seen[-1][2] == "flask"
    assert hub.mount("/t", TableApp("t", {}), framework="table").framework == "table"


# -- wsgihub_unwrap -----------------------------------------------------------------------------------
class Odd:
    """Middleware that keeps its app where nobody looks."""

    def __init__(self, inner: Any) -> None:
        self.inner_thing = inner

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.inner_thing(environ, start_response)


class OddUnwrapper:
    def __init__(self) -> None:
        self.asked: list[object] = []

    @hookimpl
    def wsgihub_unwrap(self, obj: object) -> Iterable[object] | None:
        self.asked.append(obj)
        return [obj.inner_thing] if isinstance(obj, Odd) else None


def test_wsgihub_unwrap_sees_through_unusual_middleware() -> None:
    app = TableApp("hidden", {"page": "/page"})
    without = hub_with(TablePlugin())
    assert without.mount("/h", Odd(app)).adapter is None  # the adapter cannot find it alone

    unwrapper = OddUnwrapper()
    hub = hub_with(TablePlugin(), unwrapper)
    wrapped = Odd(Odd(app))
    peg = hub.mount("/h", wrapped)
    assert peg.framework == "table" and peg.adapter is not None and peg.adapter.app is app
    assert wrapped in unwrapper.asked and wrapped.inner_thing in unwrapper.asked
    assert hub.url_for("h:page") == "/h/page"
    assert call(hub, "/h/page").text == "hidden:page /h|/page"


# -- wsgihub_submounts -----------------------------------------------------------------------------------
class Switchboard:
    """A homemade path dispatcher: ``Switchboard(default, {"/a": app_a})``."""

    def __init__(self, default: Any, routes: Mapping[str, Any]) -> None:
        self.default = default
        self.routes = dict(routes)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:  # pragma: no cover - the hub reads it
        return self.default(environ, start_response)


class SwitchboardReader:
    @hookimpl
    def wsgihub_submounts(self, app: Any, layers: Sequence[object]) -> Any:
        if isinstance(app, Switchboard):
            return app.default, app.routes
        return None


def test_wsgihub_submounts_reads_a_dispatcher_as_more_mounts() -> None:
    hub = hub_with(SwitchboardReader())
    board = Switchboard(echo_app("front"), {"/a": echo_app("a"), "/b/c": echo_app("bc")})
    peg = hub.mount("/site", board, name="site")
    assert [(p.name, p.prefix) for p in hub.pegs()] == [("site", "/site"), ("site.a", "/site/a"), ("site.b.c", "/site/b/c")]
    assert peg.app is board.default
    assert call(hub, "/site/a/x").text == "a /site/a|/x"
    assert call(hub, "/site/b/c").text == "bc /site/b/c|"
    assert call(hub, "/site/other").text == "front /site|/other"
    # without the plugin it is one opaque app
    plain = hub_with()
    plain.mount("/site", board, name="site")
    assert [p.name for p in plain.pegs()] == ["site"]


# -- wsgihub_invite, wsgihub_connect, wsgihub_ask_around ---------------------------------------------------
class Party:
    """Invites every app to a 'whoami' service and watches the partyline."""

    def __init__(self) -> None:
        self.invited: list[tuple[str, str | None]] = []
        self.connected: list[tuple[str, str | None]] = []
        self.asked: list[tuple[str, Any, str | None]] = []

    @hookimpl
    def wsgihub_invite(self, hub: wsgihub.Hub, peg: wsgihub.Peg, operator: wsgihub.PartylineOperator) -> None:
        assert hub.peg(peg.name) is peg  # hung before the invitation
        self.invited.append((peg.name, operator.name))
        operator.connect("whoami", lambda payload: peg.name)

    @hookimpl
    def wsgihub_connect(self, partyline: Any, service: str, handler: Any, participant: str | None) -> None:
        self.connected.append((service, participant))

    @hookimpl
    def wsgihub_ask_around(self, partyline: Any, service: str, payload: Any, asker: str | None) -> Any:
        self.asked.append((service, payload, asker))
        if service == "plugin-only":
            return ["answered by the plugin"]
        return None


def test_wsgihub_invite_connects_each_app_as_itself() -> None:
    party = Party()
    hub = hub_with(party)
    hub.mount("/a", echo_app("a"), name="a")
    hub.mount("/b", echo_app("b"), name="b")
    assert party.invited == [("a", "a"), ("b", "b")]
    assert hub.partyline.ask_around("whoami", None) == ["a", "b"]
    operator = hub.peg("a").operator
    assert operator is not None and operator.ask_around("whoami", 1) == ["b"]  # never asks itself


def test_wsgihub_invite_failure_leaves_no_mount() -> None:
    class Refuser:
        @hookimpl
        def wsgihub_invite(self, hub: Any, peg: Any, operator: Any) -> None:
            operator.connect("doomed", lambda payload: "never")
            raise RuntimeError("not this one")

    hub = hub_with(Refuser())
    with pytest.raises(RuntimeError, match="not this one"):
        hub.mount("/x", echo_app("x"), name="x")
    assert "x" not in hub and hub.pegs() == []
    assert "doomed" not in hub.partyline.services()


def test_wsgihub_connect_observes_every_connection() -> None:
    party = Party()
    hub = hub_with(party)
    hub.mount("/a", echo_app("a"), name="a")
    assert ("whoami", "a") in party.connected
    hub.partyline.connect("late", lambda p: "late answer")
    assert party.connected[-1] == ("late", None)
    operator = hub.partyline.operator("visitor")
    operator.connect("guestbook", lambda p: "signed")
    assert party.connected[-1] == ("guestbook", "visitor")


def test_wsgihub_ask_around_observes_every_question() -> None:
    party = Party()
    hub = hub_with(party)
    hub.mount("/a", echo_app("a"), name="a")
    hub.mount("/b", echo_app("b"), name="b")
    hub.partyline.ask_around("whoami", None)
    hub.peg("b").operator.ask_around("whoami", 2)  # type: ignore[union-attr]
    assert party.asked == [("whoami", None, None), ("whoami", 2, "b")]


def test_wsgihub_ask_around_may_answer_a_service_nobody_connected() -> None:
    party = Party()
    hub = hub_with(party)
    hub.partyline.connect("plugin-only", lambda p: "a handler")
    assert hub.partyline.ask_around("plugin-only", "q") == ["a handler", "answered by the plugin"]
    assert hub_with(party).partyline.ask_around("plugin-only", "q") == ["answered by the plugin"]
    with pytest.raises(NoSuchServiceName):
        hub.partyline.ask_around("nobody", "q")
    assert party.asked[-1] == ("nobody", "q", None)


def test_wsgihub_ask_around_reaches_plugins_registered_after_the_hub_was_built() -> None:
    hub = hub_with()
    hub.partyline.connect("whoami", lambda p: "a handler")
    assert hub.partyline.ask_around("whoami", 1) == ["a handler"]
    party = Party()
    hub.plugins.register(party, name="late-party")
    hub.partyline.ask_around("whoami", 2)
    assert hub.partyline.ask_around("plugin-only", 3) == ["answered by the plugin"]
    assert party.asked == [("whoami", 2, None), ("plugin-only", 3, None)]
    hub.plugins.unregister(party)
    hub.partyline.ask_around("whoami", 4)
    assert len(party.asked) == 2
    with pytest.raises(NoSuchServiceName):
        hub.partyline.ask_around("plugin-only", 5)


# -- wsgihub_start, wsgihub_stop, wsgihub_graceful, wsgihub_exit --------------------------------------------
class Lifecycle:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    @hookimpl
    def wsgihub_start(self, hub: wsgihub.Hub) -> None:
        self.events.append(f"start {hub.bus.state_name}")

    @hookimpl
    def wsgihub_stop(self, hub: wsgihub.Hub) -> None:
        self.events.append(f"stop {hub.bus.state_name}")

    @hookimpl
    def wsgihub_graceful(self, hub: wsgihub.Hub) -> None:
        self.events.append("graceful")

    @hookimpl
    def wsgihub_exit(self, hub: wsgihub.Hub) -> None:
        self.events.append(f"exit {hub.bus.state_name}")


def lifecycle_hub(events: list[str]) -> wsgihub.Hub:
    hub = hub_with(TablePlugin(events), Lifecycle(events))
    hub.mount("/t", TableApp("t", {}))
    return hub


def test_wsgihub_start_and_wsgihub_stop_follow_the_bus() -> None:
    events: list[str] = []
    hub = lifecycle_hub(events)
    hub.start()
    assert events == ["adapter start t", "start STARTING"]  # after every peg and adapter
    hub.stop()
    assert events[2:] == ["stop STOPPING", "adapter stop t"]  # before the adapters stop
    events.clear()
    with hub.running():
        assert events == ["adapter start t", "start STARTING"]
    assert events[2:] == ["stop STOPPING", "adapter stop t"]


def test_wsgihub_start_failure_stops_the_bus_and_is_raised() -> None:
    events: list[str] = []

    class Failing:
        @hookimpl
        def wsgihub_start(self, hub: wsgihub.Hub) -> None:
            raise RuntimeError("no database")

    hub = hub_with(TablePlugin(events), Lifecycle(events), Failing())
    hub.mount("/t", TableApp("t", {}))
    with pytest.raises(RuntimeError, match="no database"):
        hub.start()
    assert "stop STOPPING" in events and hub.bus.state_name == "STOPPED"


def test_wsgihub_graceful_follows_the_bus() -> None:
    events: list[str] = []
    hub = lifecycle_hub(events)
    hub.start()
    hub.bus.graceful()
    hub.stop()
    assert events.count("graceful") == 1
    assert events.index("start STARTING") < events.index("graceful") < events.index("stop STOPPING")


def test_wsgihub_exit_runs_once_after_stop() -> None:
    events: list[str] = []
    hub = lifecycle_hub(events)
    hub.start()
    hub.bus.exit()
    assert events == ["adapter start t", "start STARTING", "stop STOPPING", "adapter stop t", "exit EXITING"]
    hub.bus.exit()  # idempotent: no second exit
    assert events.count("exit EXITING") == 1
