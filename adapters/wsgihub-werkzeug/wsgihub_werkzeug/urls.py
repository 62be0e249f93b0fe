"""URLs of a Werkzeug routing ``Map``, as the hub needs them.

:class:`MapURLs` does for one ``url_map`` what the werkzeug and flask
adapters share: build relative URLs through a bound ``MapAdapter`` cached
per ``(script_name, scheme)``, build absolute URLs through a freshly bound
one (the host comes from the request and is never a cache key), match a
path and method for grafts, list the routes, and turn Werkzeug's
multi-line ``BuildError`` into wsgihub's one-line errors (about the endpoint;
the hub adds ``cannot build 'mount:endpoint': ``)::

    urls = MapURLs(app.url_map)
    urls.build("item", {"id": 3}, "/shop", "http", None, None)   # '/shop/items/3'
    urls.match("/items/3", "GET")                                 # True

Werkzeug allows any hashable endpoint (view functions are common); such
endpoints are named by their ``__name__`` and looked up only when building
by that name fails, so string endpoints pay nothing for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BuildError, Map, MapAdapter, Rule
from werkzeug.routing.exceptions import RoutingException

from wsgihub.adapter import AppRoute
from wsgihub.errors import UnknownEndpointError, URLBuildError, closest

from .fastmatch import Handed, PositiveMatcher, positive_matcher

__all__ = ["BOUND_CACHE_SIZE", "PLACEHOLDER_HOST", "MapURLs", "endpoint_name", "route_of"]

#: Server name bound for relative URLs and matching.  Relative URLs never
#: show it; rules on another subdomain or host are built absolute with it.
PLACEHOLDER_HOST: Final = "localhost"

#: Relative-URL adapters kept per map.  ``script_name`` can follow a proxy
#: header (``X-Forwarded-Prefix``), so the cache must not grow without end.
BOUND_CACHE_SIZE: Final = 64


def endpoint_name(endpoint: object) -> str:
    """The name a hub endpoint uses for a Werkzeug endpoint (a view's ``__name__``)."""
    if isinstance(endpoint, str):
        return endpoint
    return getattr(endpoint, "__name__", None) or str(endpoint)


class MapURLs:
    """Building, matching and listing for one Werkzeug ``Map``.

    ``framework`` names the framework in error messages.  ``mount`` is kept
    for compatibility and no longer used: the hub names the mount in build
    errors itself.
    """

    __slots__ = ("_lock", "_matcher", "_positive", "bound", "framework", "mount", "url_map")

    def __init__(self, url_map: Map, mount: str = "?", framework: str = "werkzeug") -> None:
        self.url_map = url_map
        #: ``(script_name, scheme) -> MapAdapter`` for relative URLs (read without a lock).
        self.bound: dict[tuple[str, str], MapAdapter] = {}
        self.mount = mount
        self.framework = framework
        self._matcher: MapAdapter | None = None
        #: The exact shortcut for :meth:`match`'s yes (:mod:`.fastmatch`); ``False``: not usable.
        self._positive: PositiveMatcher | None | bool = None
        self._lock = threading.Lock()

    # -- building -------------------------------------------------------------
    def bind(self, script_name: str, scheme: str) -> MapAdapter:
        """The cached relative-URL adapter for ``script_name`` and ``scheme``."""
        key = (script_name, scheme)
        with self._lock:
            bound = self.bound.get(key)
            if bound is None:
                if len(self.bound) >= BOUND_CACHE_SIZE:
                    del self.bound[next(iter(self.bound))]
                bound = self.url_map.bind(PLACEHOLDER_HOST, script_name, url_scheme=scheme)
                self.bound[key] = bound
            return bound

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        script_name: str,
        scheme: str,
        host: str | None,
        method: str | None,
    ) -> str:
        """The URL of ``endpoint``: relative when ``host`` is ``None``, else absolute.

        Raises :class:`~wsgihub.errors.UnknownEndpointError` or
        :class:`~wsgihub.errors.URLBuildError` with a one-line message.
        """
        try:
            return self.raw_build(endpoint, values, script_name, scheme, host, method)
        except BuildError as error:
            named = self.endpoint_object(endpoint)
            if named is not None:
                try:
                    return self.raw_build(named, values, script_name, scheme, host, method)
                except BuildError:
                    pass
            raise self.build_error(endpoint, values, method) from error
        except ValueError as error:
            raise self.value_error(endpoint, error) from error

    def raw_build(
        self,
        endpoint: object,
        values: Mapping[str, Any],
        script_name: str,
        scheme: str,
        host: str | None,
        method: str | None,
    ) -> str:
        """Build with Werkzeug, letting its ``BuildError`` through."""
        if host is None:
            bound = self.bound.get((script_name, scheme)) or self.bind(script_name, scheme)
            return bound.build(endpoint, values, method)
        return self.url_map.bind(host, script_name, url_scheme=scheme).build(endpoint, values, method, True)

    def endpoint_object(self, name: str) -> object | None:
        """The non-string endpoint called ``name`` (a view function), if any."""
        for rule in self.url_map.iter_rules():
            endpoint: object = rule.endpoint
            if not isinstance(endpoint, str) and endpoint_name(endpoint) == name:
                return endpoint
        return None

    # -- errors ----------------------------------------------------------------
    # One line about the endpoint: the hub puts ``cannot build 'mount:endpoint': ``
    # in front and sets the error's ``endpoint``.
    def build_error(self, endpoint: str, values: Mapping[str, Any], method: str | None) -> URLBuildError:
        """A one-line error saying why ``endpoint`` cannot be built with ``values``.

        :class:`~wsgihub.errors.UnknownEndpointError` when no rule has the
        endpoint; a :class:`~wsgihub.URLBuildError` naming the missing or
        clashing values (or the method) otherwise.
        """
        rules = [r for r in self.url_map.iter_rules() if endpoint_name(r.endpoint) == endpoint]
        if not rules:
            names = sorted({endpoint_name(r.endpoint) for r in self.url_map.iter_rules()})
            return UnknownEndpointError(
                f"the {self.framework} app has no endpoint {endpoint!r}{closest(endpoint, names)}"
            )
        if method is not None:
            wanted = method.upper()
            suitable = [r for r in rules if r.methods is None or wanted in r.methods]
            if not suitable:
                allowed = sorted({m for r in rules for m in (r.methods or ())})
                return URLBuildError(f"no rule for method {wanted!r} (methods: {', '.join(allowed)})")
            rules = suitable
        given = {k for k, v in values.items() if v is not None}
        needs = []
        for rule in rules:
            missing = sorted(rule.arguments - given - set(rule.defaults or ()))
            if missing:
                needs.append(f"rule {rule.rule!r} needs {', '.join(repr(m) for m in missing)}")
            elif rule.defaults:
                clash = sorted(k for k, v in rule.defaults.items() if k in given and values[k] != v)
                if clash:
                    needs.append(f"rule {rule.rule!r} fixes {', '.join(repr(c) for c in clash)}")
        got = ", ".join(sorted(given)) or "none"
        if needs:
            return URLBuildError(f"{'; or '.join(needs)} (given: {got})")
        return URLBuildError(f"no rule takes the values ({got})")

    def value_error(self, endpoint: str, error: Exception) -> URLBuildError:
        """A one-line error for a value a converter refused."""
        return URLBuildError(f"bad value: {error}")

    # -- matching ---------------------------------------------------------------
    def _matching(self, path_info: str) -> tuple[MapAdapter, str] | None:
        """The matcher (bound once, path only) and ``path_info`` as the rules see it (UTF-8 decoded).

        ``None`` for host-matching maps, which need the host.
        """
        if self.url_map.host_matching:
            return None
        matcher = self._matcher
        if matcher is None:
            matcher = self._matcher = self.url_map.bind(PLACEHOLDER_HOST, "/")
        if not path_info.isascii():  # PEP 3333: PATH_INFO is bytes decoded as latin-1
            path_info = path_info.encode("latin-1").decode("utf-8", "replace")
        return matcher, path_info

    def positive(self, matcher: MapAdapter) -> PositiveMatcher | None:
        """The shortcut answering :meth:`match`'s certain yeses, (re)built when the map's rules change."""
        positive = self._positive
        if isinstance(positive, PositiveMatcher):
            if positive.current(self.url_map):
                return positive
        elif positive is False:
            return None
        domain = matcher.subdomain if matcher.subdomain is not None else matcher.server_name
        built = positive_matcher(self.url_map, domain)
        self._positive = False if built is None else built
        return built

    def match(self, path_info: str, method: str) -> bool | None:
        """Whether a rule takes ``path_info`` (a WSGI ``PATH_INFO``) and ``method``.

        A redirect (strict slashes, aliases) counts as a match: the app owns
        that path.  ``None`` for host-matching maps, which need the host.
        A path a simple rule takes is answered without Werkzeug's matcher
        (:mod:`wsgihub_werkzeug.fastmatch`, exact); every other answer is
        Werkzeug's own.
        """
        verdict = self.answer(path_info, method, False)
        return verdict if verdict is None or type(verdict) is bool else True

    def answer(self, path_info: str, method: str, hand: bool = True) -> Handed | bool | None:
        """:meth:`match`, answering a yes with Werkzeug's own match when it is known exactly (``hand``).

        A :class:`~wsgihub_werkzeug.fastmatch.Handed` (truthy) when the path's
        first segment is one only one rule of the map can take and that rule
        takes the path (:meth:`PositiveMatcher.handed
        <wsgihub_werkzeug.fastmatch.PositiveMatcher.handed>`): the rule and its
        converted values, which the app may take instead of matching again.
        """
        positive = self._positive
        asked = False
        if type(positive) is PositiveMatcher and path_info.isascii():  # the usual way: nothing bound, decoded
            url_map = self.url_map
            if (
                not url_map._remap
                and not url_map.host_matching
                and url_map._rules_by_endpoint is positive.endpoints
                and len(positive.endpoints) == positive.count
            ):  # PositiveMatcher.current(), inline
                # PositiveMatcher.takes(), inline (one Python call less on a graft's path not seen lately)
                parts = path_info.split("/", 2)
                if not parts[0] and len(parts) > 1 and "//" not in path_info:
                    if hand and parts[1] in positive.exact:
                        handed = positive.handed(path_info, method)
                        if handed is not None:
                            return handed
                    for test, methods in positive.by_first.get(parts[1], positive.anywhere):
                        if (methods is None or method in methods) and test(path_info):
                            return True
                asked = True
        prepared = self._matching(path_info)
        if prepared is None:
            return None
        matcher, path_info = prepared
        if not asked:
            built = self.positive(matcher)
            if built is not None and built.takes(path_info, method):
                return True
        try:
            matcher.match(path_info, method)
        except (NotFound, MethodNotAllowed):
            return False
        except (HTTPException, RoutingException):
            return True
        return True

    def endpoint(self, path_info: str, method: str) -> str | None:
        """The endpoint of the rule that takes ``path_info`` and ``method`` (``None``: none, or a redirect)."""
        prepared = self._matching(path_info)
        if prepared is None:
            return None
        matcher, path_info = prepared
        try:
            rule, _values = matcher.match(path_info, method, return_rule=True)
        except (HTTPException, RoutingException):
            return None
        endpoint = rule.endpoint
        return endpoint if isinstance(endpoint, str) else None

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """For scoped grafts: the endpoint taking the request, ``False`` if none, ``True`` for a redirect."""
        prepared = self._matching(path_info)
        if prepared is None:
            return None
        matcher, path_info = prepared
        try:
            rule, _values = matcher.match(path_info, method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            return False
        except (HTTPException, RoutingException):
            return True
        return endpoint_name(rule.endpoint)

    # -- routes -----------------------------------------------------------------
    def routes(self) -> Iterator[AppRoute]:
        """Every rule, as the app sees it; ``methods`` ``None`` for rules that take any."""
        for rule in self.url_map.iter_rules():
            yield route_of(rule)


def route_of(rule: Rule) -> AppRoute:
    """The :class:`~wsgihub.adapter.AppRoute` of a Werkzeug rule."""
    methods = frozenset(rule.methods) if rule.methods is not None else None
    return AppRoute(endpoint_name(rule.endpoint), rule.rule, methods)
