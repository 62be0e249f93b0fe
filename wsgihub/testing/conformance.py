"""The adapter conformance suite: one pytest base class every adapter runs.

An adapter's tests subclass :class:`AdapterConformance`, give it a real app
of the framework and say what to expect of one of its routes; pytest then
runs every check below against that adapter::

    from wsgihub.testing.conformance import AdapterConformance, RouteCase

    class TestBottleConformance(AdapterConformance):
        framework = "bottle"
        route = RouteCase(
            endpoint="user", rule="/users/<uid:int>", values={"uid": 5}, path="/users/5",
            missing="uid", bad={"uid": "x"}, methods=frozenset({"GET"}),
        )
        cookies = frozenset()

        def make_app(self):
            return make_bottle_app()          # a fresh app, its routes as above

The app is mounted at ``/conf`` (mount ``conf``) on a hub that trusts
``example.com``.  What is checked:

- **detection**: the adapter is chosen for the app, behind middleware and
  when forced with ``framework=``; it knows its peg and mount;
- **routes**: the route is listed with its rule and methods, and every
  method listed is a real HTTP method (no ``ANY``);
- **build**: relative and absolute URLs (a trusted ``Host``, ``public_url``,
  an untrusted ``Host`` refused); extra values become the query; an
  unknown endpoint raises :class:`~wsgihub.errors.UnknownEndpointError`, a
  missing or refused value a :class:`~wsgihub.URLBuildError` that is *not*
  one; each is one line starting ``cannot build 'conf:ENDPOINT'``;
- **match**: the route's path and method match, an unknown path or a
  refused method does not; a graft of the app takes the route's path and
  leaves other paths to the app beneath;
- **request contexts**: ``hub.request_context`` enters as a request whose
  environ has the mount's ``SCRIPT_NAME`` and the path; inside,
  :func:`wsgihub.find_hub` is the hub; the framework's own state
  (:meth:`AdapterConformance.framework_state`) is set inside and put back
  on exit, on error and when nested;
- **the partyline ``url`` service** answers for the mount's endpoints;
- **cookies**: the app reports the cookies it sets, and two apps that set
  the same one on overlapping paths are reported;
- **served**: the route answers 2xx through a real waitress server.

Override a check (``def test_...(self): pytest.skip("why")``) only where the
framework cannot do it, and say why.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from ..adapter import Adapter
from ..errors import (
    MountError,
    MountWarning,
    UnknownEndpointError,
    UntrustedHostError,
    URLBuildError,
)
from ..hub import Hub
from ..plugins import make_plugins
from .client import call, echo_app
from .live import serving

if TYPE_CHECKING:
    from ..plugins import Plugins
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = ["HTTP_METHODS", "MOUNT", "PREFIX", "AdapterConformance", "RouteCase"]

#: Where the suite mounts the app.
MOUNT = "conf"
PREFIX = "/conf"

#: Every method a route may list (RFC 9110, PATCH, WebDAV's usual ones).
HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
     "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT"}
)

#: A path no app of the suite routes.
UNKNOWN_PATH = "/wsgihub-conformance/no/such/path"

#: The Hosts the suite's own requests send: call()'s default and the loopback server.
_SUITE_HOSTS = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class RouteCase:
    """What the suite expects of one route of the app.

    ``rule`` is the rule as the adapter lists it (``AppRoute.rule``, the
    framework's own syntax, relative to the app's root); ``path`` the path
    ``values`` build (relative to the app's root), which a ``GET`` must
    answer with 2xx.  ``missing`` is a value the route cannot be built
    without (``None``: skip that check); ``bad`` are values the framework
    refuses to build (``None``: the framework refuses none, skip).
    ``methods`` must be among the methods the route lists (``None``: the
    framework's routes carry no methods, as Django's); ``refused_method`` a
    method the route does not take (``None``: it takes any).
    """

    endpoint: str
    rule: str
    values: Mapping[str, Any]
    path: str
    missing: str | None = None
    bad: Mapping[str, Any] | None = None
    methods: frozenset[str] | None = field(default_factory=lambda: frozenset({"GET"}))
    refused_method: str | None = "DELETE"


class _Middleware:
    """Middleware the hub must see through (``.app``), as most real ones keep it."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        return self.app(environ, start_response)


class AdapterConformance:
    """Subclass as ``Test<Framework>Conformance``; set the class attributes, define :meth:`make_app`."""

    #: The adapter's ``framework`` name.
    framework: ClassVar[str]
    #: The route the checks use.
    route: ClassVar[RouteCase]
    #: Names of the cookies the app (as :meth:`make_app` builds it) reports.
    cookies: ClassVar[frozenset[str]] = frozenset()
    #: Whether two calls of :meth:`make_app` give two applications (Django: one per process).
    distinct_apps: ClassVar[bool] = True
    #: Whether values the route does not take become query arguments.
    query_arguments: ClassVar[bool] = True
    #: Whether the mounted app answers a Host the hub does not trust 400 by itself (the
    #: adapters' checks: ``wsgihub.urls.HostCheck`` for Flask and Werkzeug, Pyramid's
    #: subscriber, Starlette's bridge): then the hub also
    #: trusts the Hosts the suite's own requests send (``localhost``, the loopback server).
    refuses_untrusted_hosts: ClassVar[bool] = False

    # -- what a subclass provides -----------------------------------------------------
    def make_app(self) -> WSGIApplication:
        """A fresh WSGI app of the framework with :attr:`route` (2xx to ``GET route.path``)."""
        raise NotImplementedError(f"{type(self).__name__} must define make_app()")

    def make_plugins(self) -> Plugins:
        """The plugin manager of every hub (default: every installed plugin)."""
        return make_plugins()

    def framework_state(self) -> object:
        """The framework's own request state a request context sets and must put back.

        Flask's current request, Pyramid's thread-local request, Django's
        script prefix...; compared with ``==`` before, inside and after.
        Default ``None``: the framework keeps no such state.
        """
        return None

    def request_environ(self, request: Any) -> Mapping[str, Any]:
        """The environ of the request object a request context enters as."""
        environ: Mapping[str, Any] = request.environ
        return environ

    # -- fixtures --------------------------------------------------------------------------
    def make_hub(self, **options: Any) -> Hub:
        """A hub with :meth:`make_plugins`, trusting ``example.com``; ``options`` go to ``Hub``.

        With :attr:`refuses_untrusted_hosts` it trusts ``localhost`` and
        ``127.0.0.1`` too, or the app would refuse the suite's own requests.
        """
        trusted = ["example.com", *(_SUITE_HOSTS if self.refuses_untrusted_hosts else ())]
        options.setdefault("trusted_hosts", trusted)
        return Hub(plugins=self.make_plugins(), **options)

    @pytest.fixture
    def hubs(self) -> Iterator[list[Hub]]:
        """Every hub a test makes; their mounts are taken off afterwards."""
        made: list[Hub] = []
        yield made
        for hub in made:
            for peg in reversed(hub.pegs()):
                hub.unmount(peg)

    @pytest.fixture
    def hub(self, hubs: list[Hub]) -> Hub:
        """A hub with the app at :data:`PREFIX`, mount :data:`MOUNT`."""
        hub = self.make_hub()
        hubs.append(hub)
        hub.mount(PREFIX, self.make_app(), name=MOUNT)
        return hub

    @pytest.fixture
    def adapter(self, hub: Hub) -> Adapter[Any]:
        found = hub.peg(MOUNT).adapter
        assert found is not None, f"no adapter for the {self.framework} app"
        return found

    def _assert_names(self, error: URLBuildError, endpoint: str) -> None:
        message = str(error)
        assert message.startswith(f"cannot build '{MOUNT}:{endpoint}'"), message
        assert "\n" not in message, f"not one line: {message!r}"
        assert error.endpoint == f"{MOUNT}:{endpoint}", error.endpoint

    # -- detection --------------------------------------------------------------------------
    def test_detects_the_app(self, hub: Hub, adapter: Adapter[Any]) -> None:
        peg = hub.peg(MOUNT)
        assert adapter.framework == self.framework
        assert peg.framework == self.framework
        assert adapter.peg is peg
        assert adapter.mount == MOUNT

    def test_detects_the_app_behind_middleware(self, hubs: list[Hub]) -> None:
        hub = self.make_hub()
        hubs.append(hub)
        app = self.make_app()
        wrapped = functools.wraps(app)(lambda environ, start_response: app(environ, start_response))
        peg_a = hub.mount("/a", _Middleware(app), name="a")
        peg_b = hub.mount("/b", wrapped, name="b")
        assert peg_a.framework == self.framework
        assert peg_b.framework == self.framework

    def test_forced_framework(self, hubs: list[Hub]) -> None:
        hub = self.make_hub()
        hubs.append(hub)
        assert hub.mount("/a", self.make_app(), name="a", framework=self.framework).framework == self.framework
        with pytest.raises(MountError, match="no-such-framework"):
            hub.mount("/b", self.make_app(), name="b", framework="no-such-framework")

    # -- routes ---------------------------------------------------------------------------------
    def test_routes_list_the_route(self, hub: Hub) -> None:
        case = self.route
        rule = PREFIX + (case.rule if case.rule.startswith("/") else "/" + case.rule)
        found = [r for r in hub.routes(MOUNT) if r.endpoint == case.endpoint and r.rule == rule]
        assert found, f"{case.endpoint} {rule} not in {hub.routes(MOUNT)}"
        route = found[0]
        assert route.mount == MOUNT and route.name == f"{MOUNT}:{case.endpoint}"
        assert route.framework == self.framework
        if case.methods is None:
            assert route.methods is None
        else:
            assert route.methods is not None and case.methods <= route.methods, route.methods

    def test_route_methods_are_http_methods(self, hub: Hub) -> None:
        for route in hub.routes(MOUNT):
            if route.methods is not None:
                assert route.methods, f"{route.name}: an empty method set (use None for any)"
                assert route.methods <= HTTP_METHODS, f"{route.name}: {sorted(route.methods)}"

    # -- build ----------------------------------------------------------------------------------
    def test_build_relative(self, hub: Hub) -> None:
        case = self.route
        assert hub.url_for(f"{MOUNT}:{case.endpoint}", **case.values) == PREFIX + case.path

    def test_build_extra_values_become_the_query(self, hub: Hub) -> None:
        if not self.query_arguments:
            pytest.skip(f"{self.framework}: values a route does not take are not query arguments")
        case = self.route
        url = hub.url_for(f"{MOUNT}:{case.endpoint}", **case.values, wsgihub_q="a b")
        path, _, query = url.partition("?")
        assert path == PREFIX + case.path
        assert query in ("wsgihub_q=a+b", "wsgihub_q=a%20b"), url

    def test_build_unknown_endpoint(self, hub: Hub) -> None:
        with pytest.raises(UnknownEndpointError) as caught:
            hub.url_for(f"{MOUNT}:no_such_endpoint_xyz")
        self._assert_names(caught.value, "no_such_endpoint_xyz")

    def test_build_missing_value(self, hub: Hub) -> None:
        case = self.route
        if case.missing is None:
            pytest.skip("the route takes no value")
        values = {k: v for k, v in case.values.items() if k != case.missing}
        with pytest.raises(URLBuildError) as caught:
            hub.url_for(f"{MOUNT}:{case.endpoint}", **values)
        assert not isinstance(caught.value, UnknownEndpointError), f"a missing value is not an unknown endpoint: {caught.value}"
        self._assert_names(caught.value, case.endpoint)
        assert case.missing in str(caught.value), f"the message does not name {case.missing!r}: {caught.value}"

    def test_build_bad_value(self, hub: Hub) -> None:
        case = self.route
        if case.bad is None:
            pytest.skip(f"{self.framework} builds any value")
        with pytest.raises(URLBuildError) as caught:
            hub.url_for(f"{MOUNT}:{case.endpoint}", **{**case.values, **case.bad})
        assert not isinstance(caught.value, UnknownEndpointError), f"a bad value is not an unknown endpoint: {caught.value}"
        self._assert_names(caught.value, case.endpoint)

    def test_build_absolute_with_a_trusted_host(self, hub: Hub) -> None:
        name = f"{MOUNT}:{self.route.endpoint}"
        with hub.request_context(MOUNT, {"HTTP_HOST": "example.com:8080"}, path=self.route.path):
            assert hub.url_for(name, **self.route.values, _external=True) == f"http://example.com:8080{PREFIX}{self.route.path}"
        with (
            hub.request_context(MOUNT, {"HTTP_HOST": "evil.test"}, path=self.route.path),
            pytest.raises(UntrustedHostError, match="evil.test"),
        ):
            hub.url_for(name, **self.route.values, _external=True)

    def test_build_absolute_with_public_url(self, hubs: list[Hub]) -> None:
        hub = self.make_hub(public_url="https://example.org/site")
        hubs.append(hub)
        hub.mount(PREFIX, self.make_app(), name=MOUNT)
        name = f"{MOUNT}:{self.route.endpoint}"
        assert hub.url_for(name, **self.route.values, _external=True) == f"https://example.org/site{PREFIX}{self.route.path}"
        assert hub.url_for(name, **self.route.values) == f"/site{PREFIX}{self.route.path}"

    # -- match and grafts --------------------------------------------------------------------------
    def test_match(self, adapter: Adapter[Any]) -> None:
        case = self.route
        assert adapter.match(case.path, "GET") is True
        assert adapter.match(UNKNOWN_PATH, "GET") is False
        if case.refused_method is not None:
            assert adapter.match(case.path, case.refused_method) is False

    def test_graft_takes_its_routes_and_leaves_the_rest(self, hubs: list[Hub]) -> None:
        hub = self.make_hub()
        hubs.append(hub)
        hub.mount("/", echo_app("beneath"), name="beneath")
        hub.graft(self.make_app(), over="beneath", name=MOUNT)
        taken = call(hub, self.route.path)
        assert 200 <= taken.code < 300 and not taken.text.startswith("beneath "), taken.status
        assert call(hub, UNKNOWN_PATH).text == f"beneath |{UNKNOWN_PATH}"
        if self.route.refused_method is not None:
            refused = call(hub, self.route.path, self.route.refused_method)
            assert refused.text == f"beneath |{self.route.path}"

    # -- request contexts --------------------------------------------------------------------------
    def test_request_context_enters_the_app(self, hub: Hub) -> None:
        from .. import find_hub

        before = self.framework_state()
        with hub.request_context(MOUNT, path=self.route.path) as request:
            assert request is not None, "request_context must enter as the framework's request"
            environ = self.request_environ(request)
            assert environ["SCRIPT_NAME"] == PREFIX
            assert environ["PATH_INFO"] == self.route.path
            assert find_hub() is hub
            if type(self).framework_state is not AdapterConformance.framework_state:
                assert self.framework_state() != before, "the framework's state is not set inside"
        assert find_hub() is None
        assert self.framework_state() == before

    def test_request_context_restores_state_after_an_error(self, hub: Hub) -> None:
        from .. import find_hub

        before = self.framework_state()
        with (
            pytest.raises(LookupError, match="raised inside"),
            hub.request_context(MOUNT, path=self.route.path),
        ):
            raise LookupError("raised inside")
        assert find_hub() is None
        assert self.framework_state() == before

    def test_nested_request_contexts_restore_the_outer_one(self, hub: Hub) -> None:
        app = hub.peg(MOUNT).app
        hub.mount(PREFIX + "2", app, name=MOUNT + "2")
        before = self.framework_state()
        with hub.request_context(MOUNT, path=self.route.path) as outer:
            outer_state = self.framework_state()
            with hub.request_context(MOUNT + "2", path=self.route.path) as inner:
                assert self.request_environ(inner)["SCRIPT_NAME"] == PREFIX + "2"
                assert hub.url_for(f"{MOUNT}:{self.route.endpoint}", **self.route.values) == PREFIX + self.route.path
            assert self.framework_state() == outer_state
            assert self.request_environ(outer)["SCRIPT_NAME"] == PREFIX
        assert self.framework_state() == before

    # -- partyline -----------------------------------------------------------------------------------
    def test_partyline_url_service(self, hub: Hub) -> None:
        case = self.route
        asked = {"endpoint": f"{MOUNT}:{case.endpoint}", "values": dict(case.values)}
        assert hub.partyline.ask_around("url", asked) == [PREFIX + case.path]
        external = {**asked, "external": True}
        with hub.request_context(MOUNT, {"HTTP_HOST": "example.com"}):
            assert hub.partyline.ask_around("url", external) == [f"http://example.com{PREFIX}{case.path}"]
        assert hub.partyline.ask_around("url", {"endpoint": f"{MOUNT}:no_such_endpoint_xyz"}) == []

    # -- cookies ---------------------------------------------------------------------------------------
    def test_cookies_are_reported(self, adapter: Adapter[Any]) -> None:
        assert {cookie.name for cookie in adapter.cookies()} == set(self.cookies)
        for cookie in adapter.cookies():
            assert cookie.path.startswith("/"), cookie

    def test_cookie_collisions_are_reported(self, hub: Hub) -> None:
        if not self.cookies or not self.distinct_apps:
            pytest.skip("no cookie, or one app per process")
        name = min(self.cookies)
        with pytest.warns(MountWarning, match=re.escape(f"cookie named {name!r}")):
            hub.mount("/other", self.make_app(), name="other")

    # -- served ----------------------------------------------------------------------------------------
    def test_served_over_http(self, hub: Hub) -> None:
        with serving(hub) as server:
            result = server.get(PREFIX + self.route.path)
        assert 200 <= result.code < 300, result.status
