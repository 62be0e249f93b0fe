"""The Django adapter: URLs, routes, request scopes and checks for a Django mount.

One :class:`DjangoAdapter` serves one mount.  Django's URL conf, settings
and database connections are process-wide, so several mounts of the same
project (``/`` and ``/legacy``) share them and differ only by prefix::

    hub.mount("/legacy", get_wsgi_application(), name="legacy")
    hub.url_for("legacy:blog:detail", pk=3)             # '/legacy/blog/3/'
    hub.url_for("legacy:blog:detail", pk=3, page=2)     # '/legacy/blog/3/?page=2'
    with hub.request_context("legacy") as request:      # a real WSGIRequest
        request.user, request.session

Building costs one ``reverse()`` plus a copied context: the values are
split between path and query by a plan cached per endpoint and value
names, and the script prefix is set only inside the copied context.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.urls import NoReverseMatch, Resolver404, get_resolver
from django.utils.module_loading import import_string

from wsgihub import AppRoute, Cookie, MountWarning
from wsgihub.adapter import Adapter
from wsgihub.errors import AdapterError, MountError, UnknownEndpointError, URLBuildError, closest

from . import hosts, registry, static
from .context import close_connections, django_request, reverse_at, track_django_requests
from .project import check_settings_module, settings_problems
from .urlconf import ALL, FILE_VIEWS, Plan, UrlTable, reachable

if TYPE_CHECKING:
    from wsgihub import Hub, Peg
    from wsgihub.types import Environ, WSGIApplication

__all__ = ["DjangoAdapter"]

#: The template library the native exposure ships (``{% load wsgihub %}``).
TEMPLATE_LIBRARY = "wsgihub"


class DjangoAdapter(Adapter[Any]):
    """What the hub needs from a Django project mounted on one peg.

    ``app`` is the ``WSGIHandler`` found among the layers (or the mounted
    callable itself when ``framework="django"`` was forced).
    """

    framework: ClassVar[str] = "django"

    def __init__(self, app: object, wsgi: WSGIApplication) -> None:
        super().__init__(app, wsgi)
        self._table: UrlTable | None = None
        self._middleware: _Middleware | None = None
        self._prepare_steps: tuple[Any, ...] | None = None
        self._static: static.StaticFiles | None = None

    @property
    def mount_name(self) -> str:
        """The mount's name, ``"django"`` before mounting (kept for compatibility: see :attr:`mount`)."""
        return self.mount or "django"

    # -- mounting ---------------------------------------------------------------
    def mounted(self, hub: Hub, peg: Peg) -> None:
        """Refuse a second settings module or a URL conf that cannot be read; record the mount.

        Django imports the URL conf at the first request; doing it here makes
        loading (``wsgihub check``, ``routes``, every server) fail where
        serving would, instead of answering 500 to every request.
        """
        module = check_settings_module(self.app, hub, peg)
        try:
            self.routes()
        except AdapterError as exc:
            raise MountError(str(exc), peg.name) from exc
        registry.remember(hub, peg, module)
        self._static = static.attach(peg)  # static files as runserver serves them (static.py)
        problem = hosts.answer_400(self.app)  # UntrustedHostError from a view: 400, as DisallowedHost
        if problem is not None:
            warnings.warn(f"mount {peg.name!r}: {problem}", MountWarning, stacklevel=4)
        track_django_requests()
        hosts.respell_ipv6_hosts()  # ALLOWED_HOSTS compares text: one spelling per address (hosts.py)
        _offer_template_library()

    def unmounted(self, hub: Hub, peg: Peg) -> None:
        registry.forget(peg)
        self._static = None

    # -- routes and URLs --------------------------------------------------------
    def _load_table(self, resolver: Any) -> UrlTable:
        try:
            table = UrlTable(resolver)
        except Exception as exc:
            raise AdapterError(
                f"mount {self.mount_name!r}: Django's URL conf cannot be read: {type(exc).__name__}: {exc}"
            ) from exc
        self._table = table
        return table

    def routes(self) -> Iterable[AppRoute]:
        """Every named URL pattern (unnamed ones cannot be built), then the static files.

        With ``django.contrib.staticfiles`` and a ``STATIC_URL`` inside the
        mount, the static files are the route ``static/<path:path>`` named
        ``django.contrib.staticfiles`` (GET, HEAD), whoever serves them.
        """
        resolver = get_resolver()
        table = (
            self._table if self._table is not None and self._table.resolver is resolver else None
        )
        table = table or self._load_table(resolver)
        found = [AppRoute(name, candidate.rule, None) for name, candidate in table.routes]
        inside = static.static_path(self._script_name())
        if inside is not None:
            found.append(AppRoute(static.STATIC_ENDPOINT, inside[1:] + "<path:path>", _GET_HEAD, static=True))
        return found

    def reachable_routes(self) -> Iterable[AppRoute]:
        """Every URL pattern, named or not (an unnamed one by its view's dotted path), with
        the resolver's own regex (``re_path``, included prefixes), then the static files.
        Patterns of Django's file-serving views (``static()``) are marked ``static``."""
        resolver = get_resolver()
        found = [
            AppRoute(name, rule, None, regex=regex, static=name.rpartition(":")[2] in FILE_VIEWS)
            for name, rule, regex in reachable(resolver.url_patterns)
        ]
        found.extend(r for r in self.routes() if r.static)
        return found

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """For scoped grafts: the ``view_name`` ``resolve()`` finds (an APPEND_SLASH redirect is ``True``)."""
        path = path_info or "/"
        if self._static is not None and self._serves_static(path):
            return static.STATIC_ENDPOINT
        try:
            view_name: str = get_resolver().resolve(path).view_name
            return view_name
        except Resolver404:
            return self.match(path, method)

    def _script_name(self) -> str:
        """Where the mount is served (``public_url``'s path + prefix; ``""`` before mounting)."""
        peg = self.peg
        if peg is None:
            return ""
        origin = getattr(peg.board, "public_origin", None)
        return (origin.root if origin is not None else "") + peg.prefix

    def _serves_static(self, path_info: str) -> bool:
        """Whether the hub serves ``path_info`` as a static file of this mount."""
        served = self._static
        if served is None:
            return False
        inside = served.path(self._script_name())
        return inside is not None and path_info.startswith(inside)

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
        """``reverse(endpoint, kwargs=...)`` under ``script_name``; extra values become the query.

        Always in ``ROOT_URLCONF`` (the URL conf :meth:`routes` and
        :meth:`match` read), never a per-request ``request.urlconf``.
        ``method`` is ignored: Django routes carry no methods.  The static
        files' endpoint takes ``path`` (``admin/css/base.css``, not hashed:
        templates use ``{% static %}``).
        """
        if endpoint == static.STATIC_ENDPOINT:
            file_url = static.url(script_name, values)
            if file_url is not None:
                return file_url if host is None else f"{scheme}://{host}{file_url}"
        table = self._table
        urlconf = settings.ROOT_URLCONF
        resolver = get_resolver(urlconf)
        if table is None or table.resolver is not resolver:
            table = self._load_table(resolver)
        key = (endpoint, *values)
        plan = table.plans.get(key) or table.plan(key)
        prefix = script_name + "/"
        for path_keys in plan.attempts:
            try:
                if path_keys is ALL:
                    path = reverse_at(prefix, urlconf, endpoint, values)
                else:
                    path = reverse_at(prefix, urlconf, endpoint, *_split(values, path_keys))
            except NoReverseMatch:
                continue
            return path if host is None else f"{scheme}://{host}{path}"
        raise self._build_error(endpoint, values, plan, table)

    def _build_error(
        self, endpoint: str, values: Mapping[str, Any], plan: Plan, table: UrlTable
    ) -> URLBuildError:
        """One line about the endpoint; the hub adds ``cannot build 'mount:endpoint': ``."""
        if not plan.known:
            return UnknownEndpointError(
                f"the django app has no URL named {endpoint!r}{closest(endpoint, table.names)}"
            )
        if plan.error is not None:
            return URLBuildError(plan.error)
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items()) or "no values"
        return URLBuildError(f"the values do not fit {plan.rule!r} (given: {shown})")

    def match(self, path_info: str, method: str) -> bool:
        """Whether the URL conf resolves ``path_info`` (methods do not matter to Django).

        With ``APPEND_SLASH`` and ``CommonMiddleware``, a path that resolves
        once a slash is added is Django's too: it answers with the redirect.
        So are the static files the hub serves for the mount (static.py).
        """
        path = path_info or "/"
        if self._static is not None and self._serves_static(path):
            return True
        resolver = get_resolver()
        try:
            resolver.resolve(path)
            return True
        except Resolver404:
            pass
        if not path.endswith("/") and settings.APPEND_SLASH and self._has_middleware(_COMMON):
            try:
                resolver.resolve(path + "/")
                return True
            except Resolver404:
                pass
        return False

    def endpoint(self, environ: Environ) -> str | None:
        """The name of the URL pattern that takes the path (resolved again; for the access log).

        ``namespace:name`` as :meth:`routes` names it; an unnamed pattern
        has no endpoint (``None``).
        """
        try:
            found = get_resolver().resolve(environ.get("PATH_INFO") or "/")
        except Resolver404:
            return None
        return found.view_name if found.url_name else None

    # -- running code inside Django ------------------------------------------------
    def request_context(self, environ: Environ) -> AbstractContextManager[WSGIRequest]:
        """A real ``WSGIRequest`` with ``request.session`` and ``request.user`` when installed."""
        sender = type(self.app) if isinstance(self.app, WSGIHandler) else WSGIHandler
        return django_request(environ, self._prepare, sender)

    def _prepare(self, request: WSGIRequest) -> None:
        steps = self._prepare_steps
        if steps is None:
            steps = self._prepare_steps = self._request_steps()
        for step in steps:
            step(request)

    def _request_steps(self) -> tuple[Any, ...]:
        """``process_request`` of the project's session and authentication middleware.

        The project's own (sub)classes when its MIDDLEWARE has them, else
        Django's when the contrib apps are installed.
        """
        from django.apps import apps
        from django.contrib.auth.middleware import AuthenticationMiddleware
        from django.contrib.sessions.middleware import SessionMiddleware

        steps: list[Any] = []
        for base, app in (
            (SessionMiddleware, "django.contrib.sessions"),
            (AuthenticationMiddleware, "django.contrib.auth"),
        ):
            found = [cls for cls in self._middleware_classes() if issubclass(cls, base)]
            if not found and not apps.is_installed(app):
                continue
            if base is AuthenticationMiddleware and not steps:
                continue  # authentication needs a session
            steps.append((found[0] if found else base)(_no_response).process_request)
        return tuple(steps)

    def _middleware_classes(self) -> tuple[type, ...]:
        return self._middleware_info().classes

    def _has_middleware(self, dotted: str) -> bool:
        return self._middleware_info().has(dotted)

    def _middleware_info(self) -> _Middleware:
        names = settings.MIDDLEWARE
        info = self._middleware
        if info is None or info.names is not names:
            info = self._middleware = _Middleware(names)
        return info

    # -- checks -------------------------------------------------------------------
    def same_app_as(self, other: Adapter) -> bool:
        """One Django project per process: every Django mount serves the same one."""
        return isinstance(other, DjangoAdapter)

    def cookies(self) -> Iterable[Cookie]:
        """The session cookie (with SessionMiddleware) and the CSRF cookie (with CsrfViewMiddleware)."""
        found: list[Cookie] = []
        if self._has_middleware(_SESSIONS):
            found.append(
                Cookie(
                    settings.SESSION_COOKIE_NAME,
                    settings.SESSION_COOKIE_PATH,
                    settings.SESSION_COOKIE_DOMAIN,
                    "session",
                )
            )
        if self._has_middleware(_CSRF) and not settings.CSRF_USE_SESSIONS:
            found.append(
                Cookie(
                    settings.CSRF_COOKIE_NAME,
                    settings.CSRF_COOKIE_PATH,
                    settings.CSRF_COOKIE_DOMAIN,
                    "csrf",
                )
            )
        return found

    def problems(self, hub: Hub, peg: Peg) -> Iterable[str]:
        """FORCE_SCRIPT_NAME that disagrees with the mount, relative STATIC_URL / MEDIA_URL,
        ``static = whitenoise`` without collected files, an IPv6 ALLOWED_HOSTS entry
        spelled otherwise than the compressed form Django is handed."""
        found = list(settings_problems(hub, peg))
        found.extend(hosts.allowed_hosts_problems(peg.name))
        if self._static is not None:
            found.extend(self._static.problems(peg.name))
        return found

    # -- lifecycle ----------------------------------------------------------------
    def stop(self) -> None:
        """Close this thread's database connections (never one inside a transaction)."""
        close_connections()


_GET_HEAD = frozenset({"GET", "HEAD"})
_COMMON = "django.middleware.common.CommonMiddleware"
_SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
_CSRF = "django.middleware.csrf.CsrfViewMiddleware"


class _Middleware:
    """The project's MIDDLEWARE, imported once per value of the setting."""

    __slots__ = ("_found", "classes", "names")

    def __init__(self, names: Any) -> None:
        self.names = names
        classes: list[type] = []
        for name in names:
            try:
                cls = import_string(name)
            except ImportError:
                continue
            if isinstance(cls, type):
                classes.append(cls)
        self.classes = tuple(classes)
        self._found: dict[str, bool] = {}

    def has(self, dotted: str) -> bool:
        """Whether a class of MIDDLEWARE is ``dotted`` or a subclass of it."""
        found = self._found.get(dotted)
        if found is None:
            base = import_string(dotted)
            found = self._found[dotted] = any(issubclass(cls, base) for cls in self.classes)
        return found


def _no_response(request: Any) -> None:
    """The ``get_response`` of middleware used only for ``process_request``."""
    raise AdapterError("wsgihub's Django request_context does not produce responses")


def _split(
    values: Mapping[str, Any], path_keys: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Path keyword arguments and query arguments (``None`` values are left out of the query)."""
    kwargs = {k: v for k, v in values.items() if k in path_keys}
    query = {k: v for k, v in values.items() if k not in path_keys and v is not None}
    return kwargs, query


def _offer_template_library() -> None:
    """Make ``{% load wsgihub %}`` work even without ``wsgihub_django`` in INSTALLED_APPS.

    Adds the library to the Django template engines already configured,
    unless the project has a library of that name.  Best effort: the
    documented way is INSTALLED_APPS, which also covers engines created
    after the mount.
    """
    from django.apps import apps

    if apps.is_installed("wsgihub_django"):
        return
    from django.core.exceptions import ImproperlyConfigured
    from django.template import engines
    from django.template.backends.django import DjangoTemplates

    from .templatetags import wsgihub as library

    try:
        backends = engines.all()
    except ImproperlyConfigured:  # Django reports a bad TEMPLATES itself, when it renders
        return
    for backend in backends:
        if isinstance(backend, DjangoTemplates):
            backend.engine.template_libraries.setdefault(TEMPLATE_LIBRARY, library.register)
