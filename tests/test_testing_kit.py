"""wsgihub.testing: the reference adapter passes the conformance suite; the kit's parts work.

The suite itself is checked both ways: the reference adapter passes it,
and adapters that break one rule each (a missing value reported as an
unknown endpoint, a request context that yields ``None``, an ``ANY``
method, state not put back) fail the check about that rule.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import wsgihub
from wsgihub.adapter import AppRoute
from wsgihub.errors import AdapterError, UnknownEndpointError
from wsgihub.plugins import Plugins, make_plugins
from wsgihub.testing import (
    ReferenceAdapter,
    ReferenceApp,
    ReferencePlugin,
    call,
    current_request,
    echo_app,
    reference_hub,
    serving,
)
from wsgihub.testing.conformance import AdapterConformance, RouteCase


def make_reference_app() -> ReferenceApp:
    return ReferenceApp(
        "ref",
        {"index": "/", "user": "/users/<int:uid>", "login": "/login"},
        methods={"login": ["GET", "POST"]},
        cookie="ref_session",
    )


class TestReferenceConformance(AdapterConformance):
    """The reference adapter passes the suite it is the model for."""

    framework = "reference"
    route = RouteCase(
        endpoint="user", rule="/users/<int:uid>", values={"uid": 5}, path="/users/5",
        missing="uid", bad={"uid": "x"}, methods=frozenset({"GET", "HEAD"}),
    )
    cookies = frozenset({"ref_session"})

    def make_app(self) -> ReferenceApp:
        return make_reference_app()

    def make_plugins(self) -> Plugins:
        return make_plugins(autoload=False, plugins=[ReferencePlugin()])

    def framework_state(self) -> object:
        return current_request()


# -- the suite catches what it is for -----------------------------------------------------------------
def run_suite_against(tmp_path: Path, adapter_source: str, *select: str) -> subprocess.CompletedProcess[str]:
    """Run the suite against a broken subclass of the reference adapter, in a pytest of its own."""
    module = tmp_path / "test_broken_conformance.py"
    module.write_text(
        textwrap.dedent(
            '''
            from contextlib import contextmanager
            from wsgihub.adapter import AppRoute, detect
            from wsgihub.errors import UnknownEndpointError, URLBuildError
            from wsgihub.hookspecs import hookimpl
            from wsgihub.plugins import make_plugins
            from wsgihub.testing import ReferenceAdapter, ReferenceApp, current_request
            from wsgihub.testing.conformance import AdapterConformance, RouteCase

            class Broken(ReferenceAdapter):
            '''
        )
        + textwrap.indent(textwrap.dedent(adapter_source), "    ")
        + textwrap.dedent(
            '''

            class Plugin:
                @hookimpl
                def wsgihub_adapter(self, app, layers, framework):
                    return detect(layers, framework, name="reference", module="wsgihub.testing.reference",
                                  classname="ReferenceApp", factory=Broken)

            class TestBroken(AdapterConformance):
                framework = "reference"
                route = RouteCase(endpoint="user", rule="/users/<int:uid>", values={"uid": 5},
                                  path="/users/5", missing="uid", bad={"uid": "x"})
                cookies = frozenset({"s"})

                def make_app(self):
                    return ReferenceApp("ref", {"user": "/users/<int:uid>"}, cookie="s")

                def make_plugins(self):
                    return make_plugins(autoload=False, plugins=[Plugin()])

                def framework_state(self):
                    return current_request()
            '''
        )
    )
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(module)]
    for name in select:
        args += ["-k", name]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)


@pytest.mark.parametrize(
    ("source", "failing"),
    [
        pytest.param(
            """
            def build(self, endpoint, values, **kw):
                try:
                    return super().build(endpoint, values, **kw)
                except URLBuildError:
                    raise UnknownEndpointError(f"no route {endpoint!r}") from None
            """,
            {"test_build_missing_value", "test_build_bad_value"},
            id="missing-value-as-unknown-route",
        ),
        pytest.param(
            """
            @contextmanager
            def request_context(self, environ):
                yield None
            """,
            {"test_request_context_enters_the_app", "test_nested_request_contexts_restore_the_outer_one"},
            id="request-context-yields-none",
        ),
        pytest.param(
            """
            def routes(self):
                return [AppRoute(r.endpoint, r.rule, frozenset({"ANY"})) for r in self.app.rules.values()]
            """,
            {"test_route_methods_are_http_methods", "test_routes_list_the_route"},
            id="ANY-method",
        ),
        pytest.param(
            """
            @contextmanager
            def request_context(self, environ):
                import wsgihub.testing.reference as ref
                ref._current.set(ref.ReferenceRequest(environ, self.app))
                yield current_request()
            """,
            {
                "test_request_context_enters_the_app",
                "test_request_context_restores_state_after_an_error",
                "test_nested_request_contexts_restore_the_outer_one",
            },
            id="state-not-put-back",
        ),
    ],
)
def test_the_suite_fails_adapters_that_break_the_contract(tmp_path: Path, source: str, failing: set[str]) -> None:
    done = run_suite_against(tmp_path, source)
    failed = {line.split("::")[-1].split(" ")[0] for line in done.stdout.splitlines() if line.startswith("FAILED")}
    assert failed == failing, done.stdout[-3000:]


# -- the reference adapter ------------------------------------------------------------------------
def test_reference_app_answers_routes_methods_and_404() -> None:
    app = make_reference_app()
    assert call(app, "/users/7").text == "ref:user |/users/7"
    assert call(app, "/login", "POST").code == 200
    refused = call(app, "/users/7", "POST")
    assert refused.code == 405 and refused.header("Allow") == "GET, HEAD"
    assert call(app, "/nope").code == 404
    assert app.calls == ["/users/7", "/login", "/users/7", "/nope"]


def test_reference_hub_builds_and_serves() -> None:
    events: list[str] = []
    hub = reference_hub(events=events, trusted_hosts=["example.com"])
    hub.mount("/new", make_reference_app(), name="new")
    assert hub.url_for("new:user", uid=5, tab="x") == "/new/users/5?tab=x"
    with pytest.raises(UnknownEndpointError, match=r"^cannot build 'new:usr': no endpoint 'usr' \(did you mean 'user'\?\)$"):
        hub.url_for("new:usr")
    with hub.running():
        assert events == ["adapter start ref"]
    assert events == ["adapter start ref", "adapter stop ref"]


def test_base_request_context_raises_a_clear_error() -> None:
    class Bare(wsgihub.Adapter):
        framework = "bare"

    class Plugin:
        @wsgihub.hookimpl
        def wsgihub_adapter(self, app: Any, layers: Any, framework: str | None) -> Bare | None:
            return Bare(app, app) if framework == "bare" else None

    hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[Plugin()]))
    hub.mount("/b", echo_app("b"), name="b", framework="bare")
    with pytest.raises(AdapterError, match=r"^mount 'b' \(bare\): the bare adapter has no request context"), hub.request_context("b"):
        pass


def test_an_adapter_written_against_the_old_docs_still_works() -> None:
    """No generic parameter, its own __init__ bookkeeping, no detect(): as docs/plugins.md showed."""

    class Table:
        def __init__(self, table: Mapping[str, str]) -> None:
            self.table = dict(table)

        def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
            start_response("200 OK", [])
            return [b"table"]

    class TableAdapter(wsgihub.Adapter):
        framework = "table"

        def routes(self) -> list[AppRoute]:
            return [AppRoute(e, r, frozenset({"GET"})) for e, r in self.app.table.items()]

        def build(self, endpoint: str, values: Any, *, script_name: str, scheme: str, host: str | None, method: str | None = None) -> str:
            if endpoint not in self.app.table:
                raise UnknownEndpointError(f"table app has no endpoint {endpoint!r}", endpoint)
            return script_name + self.app.table[endpoint]

        @contextmanager
        def request_context(self, environ: Any) -> Iterator[None]:
            yield None

    class Plugin:
        @wsgihub.hookimpl
        def wsgihub_adapter(self, app: Any, layers: Any, framework: str | None) -> wsgihub.Adapter | None:
            for layer in layers:
                if isinstance(layer, Table):
                    return TableAdapter(layer, app)
            return None

    hub = wsgihub.Hub(plugins=make_plugins(autoload=False, plugins=[Plugin()]))
    peg = hub.mount("/t", Table({"index": "/"}), name="t")
    assert hub.url_for("t:index") == "/t/"
    assert peg.adapter is not None and peg.adapter.mount == "t"
    with pytest.raises(UnknownEndpointError, match="^cannot build 't:nope'"):
        hub.url_for("t:nope")


# -- the live server -----------------------------------------------------------------------------
@pytest.mark.live
def test_serving_a_plain_app_and_a_hub() -> None:
    with serving(echo_app("plain")) as server:
        assert server.url.startswith("http://127.0.0.1:")
        result = server.get("/x?y=1")
        assert result.code == 200 and result.text == "plain |/x"
        assert server.request("POST", "/z", body=b"data").text == "plain |/z"
    hub = reference_hub()
    hub.mount("/new", make_reference_app(), name="new")
    with serving(hub) as server:
        assert server.get("/new/users/3").text == "new:user /new|/users/3".replace("new:", "ref:")
        assert server.get("/missing").code == 404
    with serving(hub) as server:  # the hub's bus stopped, not exited: it serves again
        assert server.get("/new/").code == 200


def test_importing_the_kit_imports_no_pytest_and_no_framework() -> None:
    code = (
        "import sys, wsgihub.testing; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('pytest', '_pytest', 'flask', 'django', 'pyramid', 'werkzeug', 'bottle', 'waitress')]; "
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_wsgi_helpers_reexport_the_kit() -> None:
    import wsgi_helpers

    assert wsgi_helpers.call is call
    assert isinstance(ReferenceAdapter, type)
