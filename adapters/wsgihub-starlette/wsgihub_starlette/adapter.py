"""The adapter for Starlette and FastAPI applications.

Routes, URL building and matching all read the app's own router
(``app.router.routes``): ``Route`` / FastAPI's ``APIRoute`` with their
methods, ``WebSocketRoute``, and ``Mount`` -- sub-apps and routers are
walked (a named ``Mount`` prefixes its routes' names, ``"v2:item"``, as
Starlette's ``url_path_for`` does), ``StaticFiles`` and other opaque ASGI
apps are one route ``/prefix/{path:path}`` (``static`` for static files).

Building follows ``url_path_for`` (the route's own convertors turn values
into path segments) and adds what the hub needs of every adapter: values the
route does not take become the query, a missing value and a value the
convertor refuses are :class:`wsgihub.URLBuildError` naming it, an unknown
name is :class:`~wsgihub.errors.UnknownEndpointError`, and the mount's
``SCRIPT_NAME`` (the ASGI ``root_path`` the bridge gives the app) comes first.
Matching for grafts asks each route's own ``matches(scope)``, as Starlette's
router does, so a graft takes exactly what the app would answer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode

from a2wsgi.asgi import build_scope
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.routing import (
    BaseRoute,
    Host,
    Match,
    Mount,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
)
from starlette.staticfiles import StaticFiles

from wsgihub.adapter import Adapter, AppRoute, Cookie
from wsgihub.errors import UnknownEndpointError, URLBuildError

from .bridge import Bridge, bridge_for
from .plugin import is_wsgi_bridge

if TYPE_CHECKING:
    from wsgihub import Hub, Peg
    from wsgihub.types import Environ

__all__ = ["StarletteAdapter"]

#: Route classes Starlette's router walks as they are.
_PLAIN = (Route, WebSocketRoute, Mount, Host)

#: Characters a path value keeps as they are (RFC 3986 pchar, less '%').
_SAFE = "-._~!$&'()*+,;=:@"


@dataclass(frozen=True, slots=True)
class _Entry:
    """One route of the app, flattened: its full rule from the app's root."""

    name: str | None
    rule: str
    methods: frozenset[str] | None
    regex: str
    path_format: str
    convertors: Mapping[str, Any]
    static: bool = False
    mount: bool = False


class StarletteAdapter(Adapter[Any]):
    """Routes, URLs, grafts, request context, cookies and lifespan for one Starlette or FastAPI app.

    ``app`` is the ``Starlette``/``FastAPI`` (or ``Router``) instance;
    ``asgi`` the ASGI callable that was mounted (the app, or ASGI middleware
    around it); ``wsgi`` what the hub serves: the :class:`Bridge` when an ASGI
    app was mounted, else the mounted WSGI callable (a bridge, perhaps behind
    WSGI middleware); ``bridge`` the bridge whose lifespan the bus drives
    (for an app behind ``a2wsgi.ASGIMiddleware``, a bridge on that
    middleware's event loop, which also serves the requests when the
    middleware itself was mounted).
    """

    framework: ClassVar[str] = "starlette"

    def __init__(self, app: Any, wsgi: Any, *, asgi: Any = None, bridge: Bridge | None = None) -> None:
        super().__init__(app, wsgi)
        self.asgi = asgi if asgi is not None else app
        self.bridge = bridge
        self._table: tuple[tuple[int, int], list[_Entry], dict[str, list[_Entry]]] | None = None
        self._started = False

    @classmethod
    def for_layers(cls, app: Any, layers: Sequence[object]) -> StarletteAdapter:
        """The adapter for ``app`` found among ``layers`` (``layers[0]`` was mounted).

        No WSGI bridge between the mounted callable and the app: the mounted
        callable is ASGI, served through its :func:`bridge_for`.  A bridge among
        them: the mounted callable is WSGI already; this package's bridge
        gets its lifespan driven, a2wsgi's runs it on the same loop.
        """
        mounted = layers[0]
        depth = next(i for i, layer in enumerate(layers) if layer is app)
        through = next((layer for layer in layers[:depth] if is_wsgi_bridge(layer)), None)
        if through is None:
            served = bridge_for(mounted)  # type: ignore[arg-type]
            return cls(app, served, asgi=mounted, bridge=served)
        asgi: Any = getattr(through, "app", app)
        if isinstance(through, Bridge):
            return cls(app, mounted, asgi=asgi, bridge=through)
        # a2wsgi's own middleware: a bridge on its loop runs the lifespan; mounted as it is,
        # that bridge serves the requests too (they then get the lifespan's state and hub_url)
        lifespan = bridge_for(asgi, loop=getattr(through, "loop", None))
        return cls(app, lifespan if through is mounted else mounted, asgi=asgi, bridge=lifespan)

    # -- mounting -------------------------------------------------------------------------------
    def mounted(self, hub: Hub, peg: Peg) -> None:
        """Mounted on a hub whose bus already runs: start the app's lifespan now."""
        from wsgihub.bus import states

        if hub.bus.state == states.STARTED:
            self.start()

    def unmounted(self, hub: Hub, peg: Peg) -> None:
        """Taken off while the bus runs: end the lifespan this mount started."""
        self.stop()

    # -- the route table --------------------------------------------------------------------
    @property
    def router(self) -> Router:
        """The app's router (a bare ``Router`` is its own)."""
        router: Router = self.app if isinstance(self.app, Router) else self.app.router
        return router

    def _entries(self) -> tuple[list[_Entry], dict[str, list[_Entry]]]:
        """Every route, flattened (read again when the app's route list changes)."""
        routes = self.router.routes
        key = (id(routes), len(routes))
        table = self._table
        if table is None or table[0] != key:
            entries = list(_flatten(routes, "", ""))
            by_name: dict[str, list[_Entry]] = {}
            for entry in entries:
                if entry.name is not None:
                    by_name.setdefault(entry.name, []).append(entry)
            table = self._table = (key, entries, by_name)
        return table[1], table[2]

    def routes(self) -> Iterator[AppRoute]:
        """Every named route: ``Route``/``APIRoute`` (their methods), websocket routes
        (``GET``: the handshake), routes of mounted sub-apps and routers (names
        prefixed with a named mount's ``name:``), static files mounts (``static``)."""
        for entry in self._entries()[0]:
            if entry.name is not None:
                yield AppRoute(entry.name, entry.rule, entry.methods, entry.regex, entry.static)

    def reachable_routes(self) -> Iterator[AppRoute]:
        """:meth:`routes` plus unnamed mounts of opaque ASGI apps (named after their path)."""
        for entry in self._entries()[0]:
            yield AppRoute(entry.name or f"<mount {entry.rule}>", entry.rule, entry.methods, entry.regex, entry.static)

    # -- URLs -------------------------------------------------------------------------------------
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
        """Build like ``url_path_for``; extra values become the query, ``script_name`` comes first."""
        candidates = self._entries()[1].get(endpoint)
        if not candidates:
            raise UnknownEndpointError(f"no route named {endpoint!r} in {self.describe()}")
        if method is not None:
            method = method.upper()
            by_method = [e for e in candidates if e.methods is None or method in e.methods]
            if not by_method:
                raise URLBuildError(f"no route named {endpoint!r} takes {method}")
            candidates = by_method
        given = {k: v for k, v in values.items() if v is not None}
        entry = next((e for e in candidates if set(e.convertors) <= set(given)), None)
        if entry is None:
            first = candidates[0]
            missing = sorted(set(first.convertors) - set(given))
            raise URLBuildError(f"missing value {missing[0]!r} for {first.rule!r}")
        path = entry.path_format
        for key, convertor in entry.convertors.items():
            value = given[key]
            if entry.mount and key == "path" and isinstance(value, str):
                value = value.lstrip("/")
            try:
                text = convertor.to_string(value)
            except (AssertionError, ValueError, TypeError) as error:
                raise URLBuildError(
                    f"value {value!r} for {key!r} is refused by {entry.rule!r}"
                    + (f" ({error})" if str(error) else "")
                ) from None
            path = path.replace("{" + key + "}", quote(text, safe=_SAFE + ("/" if key == "path" or "/" in text else "")))
        extra = [(k, v) for k, v in given.items() if k not in entry.convertors]
        url = script_name + path
        if extra:
            url += "?" + urlencode(extra, doseq=True)
        if host is not None:
            return f"{scheme}://{host}{url}"
        return url

    def match(self, path_info: str, method: str) -> bool | None:
        """Whether a route takes the path and method (a slash redirect of the router counts)."""
        found = self.match_endpoint(path_info, method)
        return found is not False if found is not None else None

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """The name of the route that takes the path and method, ``True`` for a slash
        redirect or an unnamed mount, ``False`` when none does (405s included)."""
        scope = _scope(path_info or "/", method)
        found = _match(self.router.routes, scope, "")
        if found is not None:
            return found
        router = self.router
        if getattr(router, "redirect_slashes", False) and path_info not in ("", "/"):
            other = path_info[:-1] if path_info.endswith("/") else path_info + "/"
            if _match(router.routes, _scope(other, method), "") is not None:
                return True
        return False

    def endpoint(self, environ: Environ) -> str | None:
        """The route's name for the access log (the path matched again)."""
        found = self.match_endpoint(environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD", "GET"))
        return found if isinstance(found, str) else None

    # -- running code inside the app -------------------------------------------------------------
    @contextmanager
    def request_context(self, environ: Environ) -> Iterator[Request]:
        """A Starlette ``Request`` on the scope the bridge would give the app for ``environ``.

        ``request.url_for`` builds with the mount prefix (``root_path``),
        ``request.state`` has the lifespan's state, and ``request.scope["wsgi_environ"]``
        is ``environ``.  Starlette keeps no request in global state, so
        there is nothing to put back.
        """
        scope: dict[str, Any] = dict(build_scope(environ))  # type: ignore[arg-type]
        scope["app"] = self.app
        scope["router"] = self.router
        scope["app_root_path"] = scope["root_path"]
        if self.bridge is not None and self.bridge.state:
            scope["state"] = dict(self.bridge.state)
        yield Request(scope)

    # -- checks --------------------------------------------------------------------------------------
    def cookies(self) -> Iterator[Cookie]:
        """The session cookie of Starlette's ``SessionMiddleware`` (in the app's
        middleware list or wrapped around it), with its name, path and domain."""
        for kwargs in self._session_middlewares():
            yield Cookie(str(kwargs.get("session_cookie", "session")), str(kwargs.get("path", "/")), kwargs.get("domain"), "session")

    def _session_middlewares(self) -> Iterator[Mapping[str, Any]]:
        for middleware in getattr(self.app, "user_middleware", ()):
            cls = getattr(middleware, "cls", None)
            if isinstance(cls, type) and issubclass(cls, SessionMiddleware):
                yield middleware.kwargs
        layer: Any = self.asgi
        for _ in range(32):
            if layer is None or layer is self.app:
                break
            if isinstance(layer, SessionMiddleware):
                yield {"session_cookie": layer.session_cookie, "path": layer.path}
            layer = getattr(layer, "app", None)

    def problems(self, hub: Hub, peg: Peg) -> Iterator[str]:
        """Surprises a Starlette/FastAPI app brings to its mount.

        - FastAPI's ``root_path`` replaces the ``root_path`` the bridge gives
          (the mount's prefix): when they differ, routing and ``url_for`` in
          the app's views go wrong;
        - the session cookie's path does not cover the mount;
        - the app came through a WSGI bridge that is not a2wsgi's or this
          package's: its lifespan does not run.
        """
        root_path = getattr(self.app, "root_path", "") or ""
        origin = hub.public_origin.root if hub.public_origin is not None else ""
        where = origin + peg.prefix
        if root_path and root_path.rstrip("/") != where.rstrip("/"):
            yield (
                f"mount {peg.name!r} (starlette): the app's root_path {root_path!r} replaces the mount's prefix "
                f"{where or '/'!r} that the hub gives it: its routing and request.url_for go wrong; "
                "leave root_path unset (the hub sets it)"
            )
        for kwargs in self._session_middlewares():
            path = str(kwargs.get("path", "/")).rstrip("/")
            if path and where != path and not where.startswith(path + "/"):
                yield (
                    f"mount {peg.name!r} (starlette): the session cookie has Path={kwargs.get('path')} "
                    f"(SessionMiddleware path=), which does not cover the mount at {where or '/'!r}: "
                    "browsers will not send it back"
                )

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """The bus started: run the app's lifespan startup (once per app, however many mounts)."""
        if self.bridge is not None and not self._started:
            try:
                self.bridge.start()
            except Exception as error:
                raise type(error)(f"{self.describe()}: {error}") from error
            self._started = True

    def stop(self) -> None:
        """The bus stops: run the app's lifespan shutdown (after the last mount of the app stops)."""
        if self.bridge is not None and self._started:
            self._started = False
            self.bridge.stop()


def _scope(path: str, method: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "root_path": "", "method": method.upper(), "path_params": {}, "headers": []}


def _match(routes: Sequence[BaseRoute], scope: dict[str, Any], prefix: str) -> str | bool | None:
    """The name (``True`` if unnamed) of the route among ``routes`` taking ``scope``, else ``None``."""
    for route in _expand(routes):
        if isinstance(route, Host) or _is_websocket(route):
            continue
        try:
            match, child = route.matches(scope)
        except Exception:  # noqa: BLE001, S112  (a convertor refusing a path segment: no match)
            continue
        if match is not Match.FULL:
            continue
        if isinstance(route, Mount):
            inner = route.routes
            if not inner:
                return f"{prefix}{route.name}" if route.name else True
            found = _match(inner, {**scope, **child}, f"{prefix}{route.name}:" if route.name else prefix)
            if found is not None:
                return found
            return None  # Starlette's router stops at the first full match: the mount answers 404
        name = getattr(route, "name", None)
        return f"{prefix}{name}" if name else True
    return None


def _flatten(routes: Sequence[BaseRoute], name: str, path: str) -> Iterator[_Entry]:
    """Every route below ``routes`` with its full name and rule."""
    for route in _expand(routes):
        if isinstance(route, Mount):
            full = path + route.path
            inner = route.routes
            if inner:
                yield from _flatten(inner, f"{name}{route.name}:" if route.name else name, full)
                continue
            rule = full + "/{path:path}"
            static = isinstance(_innermost(route.app), StaticFiles)
            methods = frozenset({"GET", "HEAD"}) if static else None
            yield _entry(f"{name}{route.name}" if route.name else None, rule, methods, static=static, mount=True)
        elif isinstance(route, Host):
            continue  # routed by the Host header, not by path
        elif isinstance(route, Route) or _is_websocket(route) or hasattr(route, "path_format"):
            route_methods = getattr(route, "methods", None)
            methods = frozenset({"GET"}) if _is_websocket(route) else (
                frozenset(m.upper() for m in route_methods) if route_methods else None
            )
            yield _entry(f"{name}{route.name}", path + route.path, methods)


def _expand(routes: Sequence[BaseRoute]) -> list[Any]:
    """``routes`` with FastAPI's included routers opened up.

    FastAPI (0.12x on) may keep an ``include_router()`` as one entry that
    is not a Starlette route; its public ``fastapi.routing.iter_route_contexts``
    gives each route inside with its full path, name, methods and
    ``matches``.  Without FastAPI (or an older one) the routes are what
    Starlette's router walks.
    """
    fastapi_routing = sys.modules.get("fastapi.routing")
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    if iterate is None or all(isinstance(r, _PLAIN) for r in routes):
        return list(routes)
    out: list[Any] = []
    for context in iterate(routes):
        plain = context.route
        out.append(plain if isinstance(plain, _PLAIN) and context.original_route is plain else context)
    return out


def _is_websocket(route: Any) -> bool:
    return isinstance(route, WebSocketRoute) or isinstance(getattr(route, "original_route", None), WebSocketRoute)


def _entry(name: str | None, rule: str, methods: frozenset[str] | None, *, static: bool = False, mount: bool = False) -> _Entry:
    regex, path_format, convertors = compile_path(rule)
    pattern = regex.pattern.removeprefix("^").removesuffix("$")
    return _Entry(name, rule, methods, pattern, path_format, dict(convertors), static, mount)


def _innermost(app: Any) -> Any:
    """The ASGI app inside a mount's middleware (``.app``)."""
    for _ in range(32):
        inner = getattr(app, "app", None)
        if inner is None or inner is app:
            return app
        app = inner
    return app

