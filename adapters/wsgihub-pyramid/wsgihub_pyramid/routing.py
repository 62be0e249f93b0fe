"""What a Pyramid registry says about its routes, read once and kept.

Pyramid spreads a route over three places: the routes mapper (name,
pattern, route predicates, pregenerator), the introspector (whether the
route is *static* — generation only — or external, and the views attached
to it with their ``request_method``), and the static URL info (static
views by asset spec).  :class:`RouteTable` reads them into one
:class:`RouteInfo` per route so that building and matching cost a dict
look-up, and reads them again when the mapper's routes change (a
configurator that adds routes after ``make_wsgi_app()``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyramid.interfaces import IException, IRoutesMapper
from pyramid.predicates import RequestMethodPredicate
from zope.interface.interfaces import IInterface

__all__ = ["RouteInfo", "RouteTable", "normalize_methods", "pattern_names", "static_specs"]

# Pyramid's own pattern grammar (pyramid.urldispatch._compile_route):
# ``{name}`` / ``{name:regex}`` (one level of inner braces), the pre-1.0
# ``:name`` form when no ``{`` form is present, and a ``*name`` remainder.
_NEW_STYLE = re.compile(r"(\{[_a-zA-Z][^{}]*(?:\{[^{}]*\}[^{}]*)*\})")
_OLD_STYLE = re.compile(r"(\:[_a-zA-Z]\w*)")
_STAR_AT_END = re.compile(r"\*(\w*)$")


def pattern_names(pattern: str) -> frozenset[str]:
    """The replacement names a Pyramid route pattern takes.

    ``/users/{uid}/{slug:[a-z]+}`` -> ``{"uid", "slug"}``;
    ``static/*subpath`` -> ``{"subpath"}``.
    """
    if _OLD_STYLE.search(pattern) and not _NEW_STYLE.search(pattern):
        pattern = _OLD_STYLE.sub(lambda m: "{" + m.group(0)[1:] + "}", pattern)
    names: set[str] = set()
    star = _STAR_AT_END.search(pattern)
    if star is not None:
        if star.group(1):
            names.add(star.group(1))
        pattern = pattern[: star.start()]
    for piece in _NEW_STYLE.findall(pattern):
        names.add(piece[1:-1].split(":", 1)[0].strip())
    return frozenset(names)


def normalize_methods(value: Any) -> frozenset[str] | None:
    """A ``request_method`` argument as Pyramid applies it (GET implies HEAD)."""
    if value is None:
        return None
    methods = {value} if isinstance(value, str) else set(value)
    if "GET" in methods:
        methods.add("HEAD")
    return frozenset(methods)


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One route, with what building and matching need to know.

    ``route_methods`` come from the route's own ``request_method``
    predicate; ``view_methods`` from the views attached to the route when
    every one of them restricts the method (Pyramid answers 404 to the
    others); ``methods`` is what both allow.  ``other_predicates`` is true
    when the route has predicates a path and a method cannot evaluate
    (header, accept, xhr, custom ...).  ``static`` routes only build URLs;
    ``external`` ones build URLs on another site (``scheme_relative`` when
    their pattern starts with ``//``: they take the request's scheme).
    """

    route: Any
    name: str
    pattern: str
    names: frozenset[str]
    plain: bool
    route_methods: frozenset[str] | None
    view_methods: frozenset[str] | None
    other_predicates: bool
    static: bool
    external: bool
    scheme_relative: bool = False

    @property
    def methods(self) -> frozenset[str] | None:
        if self.route_methods is None:
            return self.view_methods
        if self.view_methods is None:
            return self.route_methods
        return self.route_methods & self.view_methods

    @property
    def rule(self) -> str:
        """The pattern with a leading slash (how Pyramid matches it)."""
        return self.pattern if self.pattern.startswith("/") else "/" + self.pattern


class RouteTable:
    """The routes of one Pyramid registry, read lazily and re-read on change."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._mapper: Any = None
        self._snapshot: tuple[list[Any], list[Any]] | None = None
        self._by_name: dict[str, RouteInfo] = {}
        self._matching: tuple[RouteInfo, ...] = ()
        self._listed: tuple[RouteInfo, ...] = ()
        self._global_views: bool | None = False

    # -- the mapper --------------------------------------------------------
    def mapper(self) -> Any:
        """The registry's routes mapper, or ``None`` (a traversal-only app).

        Kept once found: Pyramid registers it once per registry.
        """
        mapper = self._mapper
        if mapper is None:
            mapper = self._mapper = self.registry.queryUtility(IRoutesMapper)
        return mapper

    def route(self, name: str) -> Any:
        mapper = self.mapper()
        return mapper.get_route(name) if mapper is not None else None

    def info(self, name: str) -> RouteInfo | None:
        """The :class:`RouteInfo` of the route named ``name`` (``None`` if unknown)."""
        found = self._by_name.get(name)
        mapper = self._mapper or self.mapper()
        route = mapper.get_route(name) if mapper is not None else None
        if found is not None and found.route is route:
            return found
        if route is None:
            return None
        self._refresh(force=True)
        return self._by_name.get(name)

    def matching(self) -> tuple[RouteInfo, ...] | None:
        """Routes Pyramid matches requests against, in its order (``None``: no mapper)."""
        if not self._refresh():
            return None
        return self._matching

    def listed(self) -> tuple[RouteInfo, ...]:
        """Every route worth listing: matched ones, then generation-only ones."""
        self._refresh()
        return self._listed

    def global_views(self) -> bool | None:
        """Are there views outside routes (traversal)?  ``None``: cannot tell."""
        self._refresh()
        return self._global_views

    def names(self) -> list[str]:
        """Every route name (for "did you mean")."""
        self._refresh()
        return list(self._by_name)

    # -- reading ------------------------------------------------------------------
    def _refresh(self, force: bool = False) -> bool:
        mapper = self.mapper()
        if mapper is None:
            self._snapshot = None
            self._by_name, self._matching, self._listed = {}, (), ()
            self._global_views = None
            return False
        matched = list(mapper.get_routes())
        everything = list(mapper.get_routes(include_static=True))
        if not force and self._snapshot is not None and self._snapshot == (matched, everything):
            return True
        introspector = getattr(self.registry, "introspector", None)
        route_intrs = _route_introspectables(introspector)
        view_methods, views_outside = _view_facts(introspector)
        global_views: bool | None = views_outside
        if not route_intrs and matched:
            global_views = None  # introspection is off: nothing is known about views
        served = {id(route) for route in matched}
        infos: dict[str, RouteInfo] = {}
        for route in everything:
            infos[route.name] = _info(
                route, route_intrs.get(route.name), view_methods, id(route) not in served
            )
        self._by_name = infos
        self._matching = tuple(infos[r.name] for r in matched if infos.get(r.name) is not None)
        self._listed = tuple(i for i in infos.values() if not i.external)
        self._global_views = global_views
        self._snapshot = (matched, everything)
        return True


def _route_introspectables(introspector: Any) -> dict[str, Any]:
    if introspector is None:
        return {}
    return {
        entry["introspectable"]["name"]: entry["introspectable"]
        for entry in introspector.get_category("routes", default=[]) or []
    }


def _view_facts(introspector: Any) -> tuple[dict[str, frozenset[str] | None], bool]:
    """``({route_name: methods or None}, any_view_outside_routes)`` from the views."""
    methods: dict[str, frozenset[str] | None] = {}
    global_views = False
    if introspector is None:
        return methods, global_views
    for entry in introspector.get_category("views", default=[]) or []:
        view = entry["introspectable"]
        if view.get("exception_only") or _is_exception_context(view.get("context")):
            continue
        route_name = view.get("route_name")
        if route_name is None:
            global_views = True
            continue
        allowed = normalize_methods(view.get("request_methods"))
        if route_name not in methods:
            methods[route_name] = allowed
        elif methods[route_name] is not None:
            methods[route_name] = None if allowed is None else methods[route_name] | allowed  # type: ignore[operator]
    return methods, global_views


def _is_exception_context(context: Any) -> bool:
    if isinstance(context, type) and issubclass(context, BaseException):
        return True
    return bool(IInterface.providedBy(context) and context.isOrExtends(IException))


def _info(
    route: Any, intr: Any, view_methods: dict[str, frozenset[str] | None], static: bool
) -> RouteInfo:
    route_methods: frozenset[str] | None = None
    other = False
    for predicate in route.predicates or ():
        if isinstance(predicate, RequestMethodPredicate):
            allowed = frozenset(predicate.val)
            route_methods = allowed if route_methods is None else route_methods & allowed
        else:
            other = True
    scheme_relative = False
    if intr is not None:
        external_url = intr.get("external_url")
        external = bool(intr.get("static")) and external_url not in (None, route.pattern)
        scheme_relative = external and str(external_url).startswith("//")
    else:  # introspection off: Pyramid's own pregenerator for external patterns says it
        external = "external_url_pregenerator" in getattr(route.pregenerator, "__qualname__", "")
    return RouteInfo(
        route=route,
        name=route.name,
        pattern=route.pattern,
        names=pattern_names(route.pattern),
        plain=route.pregenerator is None,
        route_methods=route_methods,
        view_methods=view_methods.get(route.name),
        other_predicates=other,
        static=static,
        external=external,
        scheme_relative=scheme_relative,
    )


def static_specs(registry: Any) -> list[str]:
    """Asset specs of the app's static views (from the introspector)."""
    introspector = getattr(registry, "introspector", None)
    if introspector is None:
        return []
    return [
        e["introspectable"]["spec"]
        for e in introspector.get_category("static views", default=[]) or []
    ]
