"""The Hub: adapters, url_for across mounts, host trust, grafts, checks, lifecycle."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pytest
from wsgi_helpers import call, echo_app

import wsgihub
from wsgihub import Adapter, Hub, MountWarning, hookimpl
from wsgihub.errors import (
    MountError,
    NoAdapterError,
    UnknownEndpointError,
    UnknownMountError,
    UntrustedHostError,
    URLBuildError,
    WsgihubError,
)
from wsgihub.plugins import make_plugins
from wsgihub.testing import ReferenceAdapter, ReferenceApp, reference_hub


class MiniApp(ReferenceApp):
    """The testing kit's reference framework, answering ``name:endpoint``.

    Routes take GET (and HEAD); ``post`` endpoints take POST too.
    """

    def __init__(self, name: str, routes: Mapping[str, str], post: tuple[str, ...] = (), cookie: str | None = None) -> None:
        super().__init__(name, routes, methods={e: ("GET", "HEAD", "POST") for e in post}, cookie=cookie)

    def render(self, environ: dict[str, Any], endpoint: str, values: Mapping[str, Any]) -> str:
        return f"{self.name}:{endpoint}"


MiniAdapter = ReferenceAdapter


def make_hub(**options: Any) -> Hub:
    return reference_hub(**options)


@pytest.fixture
def site() -> Hub:
    hub = make_hub(trusted_hosts=["example.com", ".example.org"])
    hub.mount("/", MiniApp("legacy", {"index": "/", "detail": "/blog/<pk>/"}), name="legacy")
    hub.mount("/new", MiniApp("new", {"user": "/users/<uid>", "home": "/"}))
    return hub


def test_url_for_applies_the_mount_prefix(site: Hub) -> None:
    assert site.url_for("new:user", uid=5) == "/new/users/5"
    assert site.url_for("legacy:detail", pk=3) == "/blog/3/"
    assert site.url_for("new:user", uid=5, _anchor="top part") == "/new/users/5#top%20part"


def test_url_for_inside_a_request_uses_its_script_name_and_host(site: Hub) -> None:
    legacy = site.peg("legacy").app
    legacy.on_request = lambda environ: wsgihub.url_for("new:user", uid=7, _external=True)  # type: ignore[attr-defined]
    result = call(site, "/blog/1/", script_name="/site", HTTP_HOST="www.example.org:8080")
    assert result.text == "legacy:detail http://www.example.org:8080/site/new/users/7"


def test_untrusted_hosts_never_make_absolute_urls(site: Hub) -> None:
    legacy = site.peg("legacy").app
    legacy.on_request = lambda environ: site.url_for("new:user", uid=1, _external=True)  # type: ignore[attr-defined]
    result = call(site, "/", HTTP_HOST="evil.test")  # the app's UntrustedHostError: the client's fault
    assert (result.code, result.body) == (400, b"Bad Request: untrusted Host\n")
    with pytest.raises(UntrustedHostError, match="public_url"):
        site.url_for("new:user", uid=1, _external=True)


def test_public_url_outside_requests_and_for_untrusted_hosts() -> None:
    hub = make_hub(public_url="https://example.com/site")
    app = MiniApp("new", {"user": "/users/<uid>"})
    hub.mount("/new", app)
    assert hub.url_for("new:user", uid=2, _external=True) == "https://example.com/site/new/users/2"
    assert hub.url_for("new:user", uid=2) == "/site/new/users/2"
    app.on_request = lambda environ: hub.url_for("new:user", uid=3, _external=True)
    assert call(hub, "/new/users/1", HTTP_HOST="attacker.test").text.endswith("https://example.com/site/new/users/3")
    assert call(hub, "/new/users/1", HTTP_HOST="example.com").text.endswith("http://example.com/new/users/3")


def test_url_for_errors_name_the_mount_and_endpoint(site: Hub) -> None:
    with pytest.raises(UnknownMountError, match="no mount named 'nwe'.*'new'"):
        site.url_for("nwe:user", uid=1)
    with pytest.raises(UnknownEndpointError, match="'usr'.*'user'"):
        site.url_for("new:usr", uid=1)
    with pytest.raises(URLBuildError, match="missing value 'uid' for rule '/users/<uid>'"):
        site.url_for("new:user")
    with pytest.raises(URLBuildError, match="names no mount"):
        site.url_for("user")
    site.mount("/plain", echo_app("plain"))
    with pytest.raises(NoAdapterError, match="mount 'plain' has no adapter"):
        site.url_for("plain:x")
    with pytest.raises(WsgihubError, match="outside a request"):
        wsgihub.url_for("new:user", uid=1)


def test_endpoint_splits_at_the_first_colon() -> None:
    hub = make_hub()
    hub.mount("/", MiniApp("legacy", {"blog:detail": "/blog/<pk>/"}), name="legacy")
    assert hub.url_for("legacy:blog:detail", pk=3) == "/blog/3/"


def test_routes_apply_prefixes_and_list_plain_mounts(site: Hub) -> None:
    site.mount("/plain", echo_app("plain"))
    routes = {r.name: r for r in site.routes()}
    assert routes["new:user"].rule == "/new/users/<uid>"
    assert routes["new:user"].methods == frozenset({"GET", "HEAD"}) and routes["new:user"].framework == "reference"
    assert routes["legacy:detail"].rule == "/blog/<pk>/"
    assert routes["plain"].rule == "/plain/<path:rest>" and routes["plain"].endpoint is None
    with pytest.raises(NoAdapterError, match="'plain'"):
        site.routes("plain")


def test_forced_framework() -> None:
    hub = make_hub()

    def closure(environ: Any, start_response: Any) -> Any:  # hides the MiniApp from layers
        return inner(environ, start_response)

    inner = MiniApp("x", {"a": "/a"})
    with pytest.raises(MountError, match="no installed adapter handles framework 'flask'"):
        hub.mount("/x", closure, framework="flask")
    assert hub.mount("/y", closure).adapter is None
    closure.__wrapped__ = inner  # type: ignore[attr-defined]
    assert hub.mount("/z", closure, framework="reference").framework == "reference"


def test_apps_are_seen_through_middleware() -> None:
    import functools

    inner = MiniApp("x", {"a": "/a"})

    class Middleware:
        def __init__(self, app: Any) -> None:
            self.app = app

        def __call__(self, environ: Any, start_response: Any) -> Any:
            return self.app(environ, start_response)

    def partial_app(app: Any, environ: Any, start_response: Any) -> Any:
        return app(environ, start_response)

    hub = make_hub()
    assert hub.mount("/m", Middleware(Middleware(inner))).framework == "reference"
    assert hub.mount("/p", functools.partial(partial_app, inner)).framework == "reference"


def test_graft_sends_matching_routes_to_the_graft_exactly_once(site: Hub) -> None:
    legacy = site.peg("legacy").app
    reports = MiniApp("reports", {"list": "/reports/", "form": "/reports/new"}, post=("list",))
    peg = site.graft(reports, over="legacy", name="reports")
    assert peg.over is site.peg("legacy") and peg.prefix == ""
    assert call(site, "/reports/").text == "reports:list"
    assert call(site, "/reports/", "POST").text == "reports:list"
    assert call(site, "/reports/new", "POST").code == 404  # GET-only route: the base answers
    assert call(site, "/blog/2/").text == "legacy:detail"
    assert reports.calls == ["/reports/", "/reports/"]
    assert legacy.calls == ["/reports/new", "/blog/2/"]  # type: ignore[attr-defined]
    assert site.url_for("reports:form") == "/reports/new"
    grafted = [r for r in site.routes() if r.grafted]
    assert {r.name for r in grafted} == {"reports:list", "reports:form"}


def test_graft_of_an_unreadable_app_cascades_on_404(site: Hub) -> None:
    def unreadable(environ: Any, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/special":
            start_response("200 OK", [])
            return [b"special"]
        start_response("404 Not Found", [])
        return [b""]

    site.graft(unreadable, over="legacy", name="special")
    assert call(site, "/special").text == "special"
    assert call(site, "/blog/9/").text == "legacy:detail"


def test_request_context_runs_code_inside_an_app(site: Hub) -> None:
    with site.request_context("new") as request:
        assert request.app.name == "new" and request.environ["SCRIPT_NAME"] == "/new"
        assert wsgihub.url_for("legacy:detail", pk=1) == "/blog/1/"
    legacy = site.peg("legacy").app

    def inside(environ: Any) -> Any:
        with site.request_context("new", environ) as request:
            return request.environ["SCRIPT_NAME"]

    legacy.on_request = inside  # type: ignore[attr-defined]
    assert call(site, "/", script_name="/site").text == "legacy:index /site/new"


def test_checks_warn_about_cookie_collisions_and_shadowed_routes() -> None:
    hub = make_hub()
    hub.mount("/", MiniApp("legacy", {"blog": "/blog/<pk>", "shop": "/shop/cart"}, cookie="session"), name="legacy")
    with pytest.warns(MountWarning, match="mounts 'legacy' and 'new' both set a session cookie named 'session'"):
        hub.mount("/new", MiniApp("new", {"home": "/"}, cookie="session"))
    with pytest.warns(MountWarning, match=r"route legacy:shop \(/shop/cart\) is shadowed by mount 'shop'"):
        hub.mount("/shop", echo_app("shop"))
    problems = hub.check()
    assert len(problems) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hub.mount("/other", MiniApp("other", {"home": "/"}, cookie="other_session"))


class Lifecycle:
    def __init__(self) -> None:
        self.log: list[str] = []

    @hookimpl
    def wsgihub_start(self, hub: Hub) -> None:
        self.log.append("start")

    @hookimpl
    def wsgihub_stop(self, hub: Hub) -> None:
        self.log.append("stop")

    @hookimpl
    def wsgihub_graceful(self, hub: Hub) -> None:
        self.log.append("graceful")

    @hookimpl
    def wsgihub_exit(self, hub: Hub) -> None:
        self.log.append("exit")


def test_lifecycle_reaches_plugins_and_pegs() -> None:
    plugin = Lifecycle()
    hub = Hub(plugins=make_plugins(autoload=False, plugins=[plugin]))

    class Component:
        def __call__(self, environ: Any, start_response: Any) -> Any:
            start_response("200 OK", [])
            return [b""]

        def __setup__(self, peg: Any) -> None:
            plugin.log.append(f"setup {peg.name}")

        def __teardown__(self, peg: Any) -> None:
            plugin.log.append(f"teardown {peg.name}")

    hub.mount("/", Component(), name="root")
    hub.mount("/a", Component(), name="a")
    assert call(hub, "/a").code == 200  # works without start()
    with hub.running():
        assert plugin.log == ["setup root", "setup a", "start"]
        hub.bus.graceful()
    assert plugin.log[3:] == ["graceful", "stop", "teardown root", "teardown a"]
    hub.bus.exit()
    assert plugin.log[-1] == "exit"


def test_absolute_urls_drop_the_default_port(site: Hub) -> None:
    legacy = site.peg("legacy").app
    legacy.on_request = lambda environ: site.url_for("new:user", uid=1, _external=True)  # type: ignore[attr-defined]
    assert call(site, "/", HTTP_HOST="example.com:80").text.endswith(" http://example.com/new/users/1")
    assert call(site, "/", HTTP_HOST="example.com:8080").text.endswith(" http://example.com:8080/new/users/1")
    https = call(site, "/", HTTP_HOST="example.com:443", **{"wsgi.url_scheme": "https"})
    assert https.text.endswith(" https://example.com/new/users/1")


def test_public_modules_are_reachable_from_the_package() -> None:
    assert wsgihub.bus.Bus is __import__("wsgihub.bus", fromlist=["Bus"]).Bus  # type: ignore[attr-defined]
    assert callable(wsgihub.deploy.parse_deployment)  # type: ignore[attr-defined]
    assert wsgihub.compat.wsgi_party.WSGIParty.partyline_key == "partyline"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        wsgihub.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


# -- the adapter contract's hub side (issue 9 section 5) -----------------------------


def test_the_adapter_knows_its_peg_before_mounted_runs() -> None:
    seen: list[Any] = []

    class Recording(MiniAdapter):
        def mounted(self, hub: Hub, peg: wsgihub.Peg) -> None:
            seen.append(getattr(self, "peg", None))

    class Plugin:
        @hookimpl
        def wsgihub_adapter(self, app: Any, layers: Any, framework: str | None) -> Adapter | None:
            return Recording(app, app)

    hub = Hub(plugins=make_plugins(autoload=False, plugins=[Plugin()]))
    peg = hub.mount("/new", MiniApp("new", {}))
    assert seen == [peg]
    assert peg.adapter is not None and peg.adapter.peg is peg  # type: ignore[attr-defined]


def test_find_hub_names_the_hub_serving_a_request(site: Hub) -> None:
    assert wsgihub.find_hub() is None
    assert wsgihub.find_hub({}) is None
    legacy = site.peg("legacy").app
    legacy.on_request = lambda environ: (wsgihub.find_hub() is site, wsgihub.find_hub(environ) is site)  # type: ignore[attr-defined]
    assert call(site, "/").text == "legacy:index (True, True)"
    other = make_hub()
    assert wsgihub.find_hub({"wsgihub.hub": other}) is other


def test_build_errors_are_named_mount_endpoint_by_the_hub(site: Hub) -> None:
    with pytest.raises(UnknownEndpointError, match=r"^cannot build 'new:usr': no endpoint 'usr'") as info:
        site.url_for("new:usr")
    assert isinstance(info.value.__cause__, UnknownEndpointError)
    with pytest.raises(URLBuildError, match=r"^cannot build 'new:user': missing value 'uid' for rule '/users/<uid>'$"):
        site.url_for("new:user")


def test_build_errors_already_named_are_left_alone() -> None:
    class Naming(MiniAdapter):
        def build(self, endpoint: str, values: Mapping[str, Any], **options: Any) -> str:
            raise URLBuildError(f"cannot build 'new:{endpoint}': nope", f"new:{endpoint}")

    class Plugin:
        @hookimpl
        def wsgihub_adapter(self, app: Any, layers: Any, framework: str | None) -> Adapter | None:
            return Naming(app, app)

    hub = Hub(plugins=make_plugins(autoload=False, plugins=[Plugin()]))
    hub.mount("/new", MiniApp("new", {}))
    with pytest.raises(URLBuildError, match=r"^cannot build 'new:x': nope$") as info:
        hub.url_for("new:x")
    assert info.value.__cause__ is None


def test_origin_is_public_and_enforces_host_trust() -> None:
    hub = make_hub(trusted_hosts=["example.com"], public_url="https://Example.net:443/site/")
    assert hub.public_origin == wsgihub.Origin("https", "example.net", "/site")
    assert hub.public_origin.url == "https://example.net/site"
    assert hub.origin() == hub.public_origin
    app = MiniApp("new", {"home": "/"})
    hub.mount("/new", app)
    app.on_request = lambda environ: hub.origin(environ)
    assert call(hub, "/new/", script_name="/outer", HTTP_HOST="EXAMPLE.com:80").text == (
        "new:home http://example.com/outer"
    )
    assert call(hub, "/new/", HTTP_HOST="example.com:8080").text == "new:home http://example.com:8080"
    assert call(hub, "/new/", HTTP_HOST="evil.test").text == "new:home https://example.net/site"
    bare = make_hub(trusted_hosts=["example.com"])
    assert bare.public_origin is None
    with pytest.raises(UntrustedHostError, match="public_url"):
        bare.origin()
    with pytest.raises(UntrustedHostError, match="'evil.test' is not in trusted_hosts"):
        bare.origin({"HTTP_HOST": "evil.test", "wsgi.url_scheme": "http"})


def test_bad_api_input_is_one_line_wsgihub_error(site: Hub) -> None:
    with pytest.raises(wsgihub.errors.ConfigError, match=r"not the string 'example.com'.*\['example.com'\]"):
        make_hub(trusted_hosts="example.com")
    with pytest.raises(UnknownMountError, match="no mount named None"):
        site.unmount(None)  # type: ignore[arg-type]
    with pytest.raises(URLBuildError, match="url_for: endpoint must be"):
        site.url_for(None)  # type: ignore[arg-type]


def test_an_app_whose_attributes_raise_is_refused_in_one_line() -> None:
    class Proxy:
        """Like flask.current_app outside an app context: every attribute raises."""

        def __call__(self, environ: Any, start_response: Any) -> Any:
            raise AssertionError("never called")

        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("Working outside of application context.\n\nThis typically means ...")

    hub = make_hub()
    with pytest.raises(MountError, match=r"^mount 'other': looking into Proxy raised RuntimeError: Working outside of application context\.$"):
        hub.mount("/other", Proxy())
    assert hub.pegs() == []
