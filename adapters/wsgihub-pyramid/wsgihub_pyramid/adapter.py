"""The wsgihub adapter for one mounted Pyramid application.

The adapter works from the application's :class:`pyramid.registry.Registry`
(``router.registry``), never from Pyramid's thread locals: while another
app — or another Pyramid app — handles the request, the thread locals
belong to that one.

- **URLs** are built with Pyramid's own ``request.route_url`` on one blank
  request per adapter that carries the registry, passing ``_app_url`` (the
  mount's ``SCRIPT_NAME``, or ``scheme://host`` + it); the common case (no
  pregenerator, no query) does what ``route_url`` does, minus its per-call
  registry look-ups.  Values the route
  pattern does not take become query arguments (Pyramid itself ignores
  them).  An endpoint that is not a route name but an asset spec
  (``mypkg:static/app.css``) is built with ``request.static_url``.
- **Routes** come from the routes mapper (methods from the route's
  ``request_method`` predicate and from its views) plus the introspector.
- **Requests**: :meth:`PyramidAdapter.request_context` runs code inside
  :func:`pyramid.scripting.prepare`, as Pyramid's own scripts do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pyramid.interfaces import ICSRFStoragePolicy, IRequestFactory, ISessionFactory
from pyramid.request import Request, apply_request_extensions
from pyramid.scripting import prepare

from wsgihub.adapter import Adapter, AppRoute, Cookie
from wsgihub.errors import UnknownEndpointError, URLBuildError, closest

from . import hosts, paths
from .routing import RouteInfo, RouteTable, static_specs

if TYPE_CHECKING:
    from wsgihub import Hub, Peg
    from wsgihub.types import Environ, WSGIApplication

__all__ = ["HUB_KEY", "PyramidAdapter"]

#: Where :meth:`PyramidAdapter.mounted` records the hub in the app's registry.
HUB_KEY = "wsgihub.hub"

#: ``route_url`` arguments the hub decides itself (``_external``, ``_scheme``, ``_anchor``).
_RESERVED = frozenset({"_app_url", "_scheme", "_host", "_port", "_anchor"})
#: Pyramid-native extras accepted in ``values``: a query to merge, path elements to append.
_SPECIAL = frozenset({"_query", "_elements"}) | _RESERVED


class PyramidAdapter(Adapter[Any]):
    """What the hub needs from one Pyramid application.

    ``app`` is the :class:`pyramid.router.Router` (or whatever layer
    carried the registry when the framework was forced); ``registry`` its
    :class:`pyramid.registry.Registry`.
    """

    framework = "pyramid"

    def __init__(self, app: object, wsgi: WSGIApplication, registry: Any) -> None:
        super().__init__(app, wsgi)
        self.registry = registry
        self.table = RouteTable(registry)
        self._request = self._blank_request()
        self._host_check: Any = None
        self._path_check: Any = None

    def _blank_request(self) -> Any:
        """The one request every build uses: blank, carrying the registry.

        Built with the app's request factory and request extensions, so a
        pregenerator finds the attributes it expects.  Only read, never
        mutated: shared by every thread.
        """
        factory = self.registry.queryUtility(IRequestFactory, default=Request)
        request = factory.blank("/")
        request.registry = self.registry
        apply_request_extensions(request)
        return request

    # -- mounting -----------------------------------------------------------------
    @property
    def mount_name(self) -> str | None:
        """The mount's name (kept for compatibility: :attr:`mount` is the same)."""
        return self.mount

    def mounted(self, hub: Hub, peg: Peg) -> None:
        """Record the hub in the app's registry.

        ``request.hub_url`` (see :func:`wsgihub_pyramid.includeme`) falls
        back to ``registry["wsgihub.hub"]`` outside requests the hub serves.
        With ``trusted_hosts`` or ``public_url``, other Hosts get 400 before
        any view (WebOb's redirects would carry them: hosts.py); a path
        that is not UTF-8 gets 400 too (paths.py).
        """
        self.registry[HUB_KEY] = hub
        self._host_check = hosts.guard(self.registry, hub)
        self._path_check = paths.guard(self.registry)

    def unmounted(self, hub: Hub, peg: Peg) -> None:
        """Forget the hub, unless the same app is still mounted elsewhere on it."""
        hosts.unguard(self.registry, self._host_check)
        self._host_check = None
        paths.unguard(self.registry, self._path_check)
        self._path_check = None
        if self.registry.get(HUB_KEY) is not hub:
            return
        for other in hub.pegs():
            adapter = other.adapter
            if (
                other is not peg
                and isinstance(adapter, PyramidAdapter)
                and adapter.registry is self.registry
            ):
                return
        del self.registry[HUB_KEY]

    # -- URLs -------------------------------------------------------------------------
    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        *,
        script_name: str,
        scheme: str,
        host: str | None,
        method: str | None = None,
    ) -> str:
        """The URL of route ``endpoint`` (or of an asset spec), ``app_url`` = mount.

        A route without pregenerator, given only the values its pattern
        takes, is built as ``route_url`` builds it (``app_url +
        route.generate(values)``); everything else goes through
        ``request.route_url`` / ``request.static_url`` on the adapter's blank
        request.  ``method`` is ignored: Pyramid route names are unique.
        """
        info = self.table.info(endpoint)
        if info is None:
            return self._build_asset(endpoint, values, script_name, scheme, host)
        app_url = script_name if host is None else f"{scheme}://{host}{script_name}"
        names = info.names
        if info.external:
            return self._build_with_extras(info, values, app_url, scheme)
        for key in values:
            if key not in names:
                return self._build_with_extras(info, values, app_url, scheme)
        try:
            if info.plain:
                # What route_url does for a route without pregenerator, minus
                # its per-call registry look-ups: the hot path.
                return app_url + str(info.route.generate(values))
            return self._request.route_url(endpoint, _app_url=app_url, **values)  # type: ignore[no-any-return]
        except KeyError as exc:
            raise self._missing(info, exc) from None
        except (ValueError, TypeError) as exc:  # from a pregenerator
            raise URLBuildError(str(exc)) from exc  # the pregenerator says why

    def _build_with_extras(
        self, info: RouteInfo, values: Mapping[str, Any], app_url: str, scheme: str
    ) -> str:
        """The slow path: query arguments, ``_query``, ``_elements``, external routes."""
        kw: dict[str, Any] = {}
        extras: list[tuple[str, Any]] = []
        query: Any = None
        elements: tuple[Any, ...] = ()
        for key, value in values.items():
            if key in _SPECIAL:
                if key == "_query":
                    query = value
                elif key == "_elements":
                    elements = (value,) if isinstance(value, (str, int)) else tuple(value)
                else:
                    raise URLBuildError(
                        f"{key} is decided by the hub "
                        "(use _external=True / _scheme= / _anchor= on hub.url_for)"
                    )
                continue
            kw[key] = value  # all of them: a pregenerator may want any
            if key not in info.names:
                extras.append((key, value))
        if query is not None:
            if isinstance(query, str):
                if extras:
                    raise URLBuildError(
                        f"_query is a string and {', '.join(k for k, _ in extras)} "
                        "would be query arguments too"
                    )
                extras = query  # type: ignore[assignment]
            else:
                extras = extras + list(query.items() if isinstance(query, Mapping) else query)
        if info.external:
            if info.scheme_relative:
                kw["_scheme"] = scheme
        else:
            kw["_app_url"] = app_url
        try:
            return self._request.route_url(info.name, *elements, _query=extras, **kw)  # type: ignore[no-any-return]
        except KeyError as exc:
            raise self._missing(info, exc) from None
        except (ValueError, TypeError) as exc:
            raise URLBuildError(str(exc)) from exc  # the pregenerator says why

    def _build_asset(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        script_name: str,
        scheme: str,
        host: str | None,
    ) -> str:
        """``mypkg:static/app.css`` -> the static view's URL, via ``request.static_url``."""
        if ":" not in endpoint:
            raise self._unknown(endpoint)
        kw = {k: v for k, v in values.items() if k not in _SPECIAL}
        query: Any = list(kw.items())
        if "_query" in values:
            extra = values["_query"]
            query = (
                extra
                if isinstance(extra, str)
                else query + list(extra.items() if isinstance(extra, Mapping) else extra)
            )
        app_url = script_name if host is None else f"{scheme}://{host}{script_name}"
        try:
            return self._request.static_url(endpoint, _app_url=app_url, _query=query)  # type: ignore[no-any-return]
        except ValueError:
            raise self._unknown(endpoint) from None

    # One line about the endpoint: the hub puts ``cannot build 'mount:endpoint': ``
    # in front and sets the error's ``endpoint``.
    def _missing(self, info: RouteInfo, exc: KeyError) -> URLBuildError:
        missing = exc.args[0] if exc.args else "?"
        return URLBuildError(f"missing value {missing!r} for route pattern {info.pattern!r}")

    def _unknown(self, endpoint: str) -> UnknownEndpointError:
        choices = self.table.names() + static_specs(self.registry)
        return UnknownEndpointError(
            f"the pyramid app has no route or static view named {endpoint!r}{closest(endpoint, choices)}"
        )

    # -- routes -------------------------------------------------------------------------
    def routes(self) -> Iterable[AppRoute]:
        """Every route but external ones; static views as their ``__name/`` routes."""
        return [
            AppRoute(info.name, info.rule, info.methods, static=info.name.startswith("__") and not info.static)
            for info in self.table.listed()
        ]

    def endpoint(self, environ: Environ) -> str | None:
        """The name of the route that takes the request (matched again; for the access log)."""
        info, _searched = self._route_taking(environ.get("PATH_INFO") or "", environ.get("REQUEST_METHOD", "GET"))
        if info is None:
            return None
        name: str = info.route.name
        return name

    def _route_taking(self, path_info: str, method: str) -> tuple[RouteInfo | None, bool]:
        """The first route, in Pyramid's order, whose pattern and ``request_method`` take the request.

        With it whether the routes could be searched at all: ``False`` when the
        app has no routes mapper or ``path_info`` is not UTF-8 (the callers
        then answer ``None``, "cannot tell").
        """
        table = self.table.matching()
        if table is None:
            return None, False
        try:
            path = (path_info or "/").encode("latin-1").decode("utf-8")
        except UnicodeError:
            return None, False
        for info in table:
            if info.route.match(path) is None:
                continue
            if info.route_methods is not None and method not in info.route_methods:
                continue
            return info, True
        return None, True

    def match(self, path_info: str, method: str) -> bool | None:
        """Would Pyramid route this path and method to a view?

        Walks the routes in Pyramid's order with their patterns and
        ``request_method`` predicates.  A route with predicates a path and a
        method cannot evaluate (header, accept, custom) counts as a match.
        When no route matches: ``False``, or ``None`` when the app also has
        views outside routes (traversal) or no routes mapper at all.
        """
        info, searched = self._route_taking(path_info, method)
        if not searched:
            return None
        if info is None:
            return None if self.table.global_views() is not False else False
        if info.other_predicates:
            return True
        return info.view_methods is None or method in info.view_methods

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """For scoped grafts: the name of the route :meth:`match` finds (``False``/``None`` as it answers)."""
        info, searched = self._route_taking(path_info, method)
        if not searched:
            return None
        if info is None:
            return None if self.table.global_views() is not False else False
        if info.other_predicates or info.view_methods is None or method in info.view_methods:
            return info.name
        return False

    def reachable_routes(self) -> Iterable[AppRoute]:
        """The routes Pyramid matches requests against (not generation-only ones); static views marked."""
        table = self.table.matching() or ()
        return [
            AppRoute(info.name, info.rule, info.methods, static=info.name.startswith("__")) for info in table
        ]

    # -- requests -------------------------------------------------------------------------
    @contextmanager
    def request_context(self, environ: Environ) -> Iterator[object]:
        """Enter as a Pyramid request for ``environ``, made current by ``prepare()``.

        The request comes from the app's request factory; its matched route
        and ``matchdict`` are set when a route matches the path, so
        ``request.current_route_url()`` works; ``request.session`` works when
        a session factory is configured.  The closer (finished callbacks,
        thread locals) runs on exit.
        """
        factory = self.registry.queryUtility(IRequestFactory, default=Request)
        request = factory(environ)
        request.registry = self.registry
        mapper = self.table.mapper()
        if mapper is not None:
            found = mapper(request)
            if found["route"] is not None:
                request.matchdict = found["match"]
                request.matched_route = found["route"]
        env = prepare(request=request, registry=self.registry)
        try:
            yield env["request"]
        finally:
            env["closer"]()

    # -- checks -------------------------------------------------------------------------
    def cookies(self) -> Iterable[Cookie]:
        """The session factory's cookie and ``CookieCSRFStoragePolicy``'s, if configured.

        Pyramid's cookie session factories keep their settings in private
        class attributes (``_cookie_name``, ``_cookie_path``,
        ``_cookie_domain``); they are read defensively, and a session factory
        without them (server-side sessions from other packages) reports no
        cookie.
        """
        found: list[Cookie] = []
        factory = self.registry.queryUtility(ISessionFactory)
        if factory is not None:
            name = getattr(factory, "_cookie_name", None) or getattr(factory, "cookie_name", None)
            if isinstance(name, str):
                path = (
                    getattr(factory, "_cookie_path", None)
                    or getattr(factory, "cookie_path", None)
                    or "/"
                )
                domain = getattr(factory, "_cookie_domain", None) or getattr(
                    factory, "cookie_domain", None
                )
                found.append(Cookie(name, path, domain, "session"))
        policy = self.registry.queryUtility(ICSRFStoragePolicy)
        profile = getattr(policy, "cookie_profile", None)
        if profile is not None and isinstance(getattr(policy, "cookie_name", None), str):
            for domain in [d for d in getattr(profile, "domains", None) or () if d] or [None]:
                found.append(Cookie(policy.cookie_name, profile.path or "/", domain, "CSRF"))
        return found
