"""The reference adapter: a tiny routed framework and the adapter that knows it.

What ``wsgihub.testing`` uses to show the adapter contract working end to
end without a web framework, and what core tests mount when they need an
app with routes::

    from wsgihub.testing import ReferenceApp, reference_hub

    hub = reference_hub(trusted_hosts=["example.com"])
    hub.mount("/new", ReferenceApp("new", {"user": "/users/<int:uid>", "home": "/"}))
    hub.url_for("new:user", uid=5)                 # '/new/users/5'
    hub.url_for("new:user", uid=5, tab="x")        # '/new/users/5?tab=x'

:class:`ReferenceApp` answers ``name:endpoint SCRIPT_NAME|PATH_INFO`` for
its routes (:meth:`ReferenceApp.render`; plus what ``on_request(environ)``
returns, if set), 405 to a
known path with another method, 404 elsewhere.  Rules are ``/users/<uid>``
(any segment) or ``/users/<int:uid>`` (digits; building refuses a value
that is not an integer).  Routes take ``GET`` and ``HEAD`` unless
``methods`` says otherwise.  The request being served (or entered with
``hub.request_context``) is :func:`current_request`, the framework state a
request context must put back.

:class:`ReferenceAdapter` passes :mod:`wsgihub.testing.conformance`
(``tests/test_testing_kit.py`` runs it); read it as a model for a new
adapter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from ..adapter import Adapter, AppRoute, Cookie, detect
from ..errors import UnknownEndpointError, URLBuildError, closest
from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..hub import Hub
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = [
    "FRAMEWORK",
    "ReferenceAdapter",
    "ReferenceApp",
    "ReferencePlugin",
    "ReferenceRequest",
    "ReferenceRule",
    "current_request",
    "reference_hub",
]

#: The framework name of :class:`ReferenceApp` (``mount(..., framework="reference")``).
FRAMEWORK = "reference"

#: ``<name>`` or ``<int:name>`` in a rule.
_VARIABLE = re.compile(r"<(?:(int):)?([A-Za-z_]\w*)>")

#: The methods a route takes unless told otherwise.
DEFAULT_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class ReferenceRequest:
    """The reference framework's request object: the environ and the app serving it."""

    environ: Environ
    app: ReferenceApp


_current: ContextVar[ReferenceRequest | None] = ContextVar("wsgihub_reference_request", default=None)


def current_request() -> ReferenceRequest | None:
    """The request the reference framework serves in this context (``None`` between requests)."""
    return _current.get()


@dataclass(frozen=True, slots=True)
class ReferenceRule:
    """One route: its endpoint, rule text and methods."""

    endpoint: str
    rule: str
    methods: frozenset[str]

    @property
    def arguments(self) -> list[tuple[str, str | None]]:
        """``[(name, converter or None), ...]`` in rule order."""
        return [(m.group(2), m.group(1)) for m in _VARIABLE.finditer(self.rule)]

    def match(self, path: str) -> dict[str, Any] | None:
        """The values in ``path`` if the rule takes it, else ``None``."""
        # split() yields: literal, converter, name, literal, converter, name, ...
        pieces = _VARIABLE.split(self.rule)
        regex = re.escape(pieces[0])
        for i in range(1, len(pieces), 3):
            converter, name, literal = pieces[i], pieces[i + 1], pieces[i + 2]
            regex += f"(?P<{name}>-?[0-9]+)" if converter == "int" else f"(?P<{name}>[^/]+)"
            regex += re.escape(literal)
        found = re.fullmatch(regex, path or "/")
        if found is None:
            return None
        return {
            name: int(found.group(name)) if converter == "int" else found.group(name)
            for name, converter in self.arguments
        }

    def build(self, values: Mapping[str, Any]) -> str:
        """The path for ``values``: :class:`KeyError` names a missing value,
        :class:`ValueError` a value the converter refuses."""

        def fill(variable: re.Match[str]) -> str:
            converter, name = variable.group(1), variable.group(2)
            if values.get(name) is None:
                raise KeyError(name)
            value = values[name]
            if converter == "int":
                if isinstance(value, bool) or not isinstance(value, (int, str)):
                    raise ValueError(f"{name!r} must be an integer, not {value!r}")
                if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value):
                    raise ValueError(f"{name!r} must be an integer, not {value!r}")
                return str(int(value))
            text = str(value)
            if not text or "/" in text:
                raise ValueError(f"{name!r} must be one non-empty path segment, not {value!r}")
            return text

        return _VARIABLE.sub(fill, self.rule)


class ReferenceApp:
    """A tiny routed WSGI framework: ``{endpoint: "/users/<int:uid>"}``.

    ``methods`` maps endpoints to the methods they take (default ``GET``,
    ``HEAD``); ``cookie`` is the name of a session cookie the app sets on
    ``Path=/`` (``None``: no cookie).  ``calls`` records every ``PATH_INFO``
    the app was called with; ``on_request(environ)``, when set, adds its
    result to the body of routed requests.
    """

    def __init__(
        self,
        name: str = "reference",
        routes: Mapping[str, str] | None = None,
        *,
        methods: Mapping[str, Iterable[str]] | None = None,
        cookie: str | None = None,
    ) -> None:
        self.name = name
        self.rules: dict[str, ReferenceRule] = {}
        for endpoint, rule in (routes if routes is not None else {"index": "/"}).items():
            allowed = methods.get(endpoint) if methods is not None else None
            taken = frozenset(m.upper() for m in allowed) if allowed is not None else DEFAULT_METHODS
            self.rules[endpoint] = ReferenceRule(endpoint, rule, taken)
        self.cookie = cookie
        self.calls: list[str] = []
        self.on_request: Callable[[Environ], object] | None = None

    def resolve(self, path: str, method: str) -> tuple[ReferenceRule, dict[str, Any]] | None:
        """The rule taking ``path`` and ``method`` and its values, or ``None``."""
        for rule in self.rules.values():
            values = rule.match(path)
            if values is not None and method.upper() in rule.methods:
                return rule, values
        return None

    def find(self, path: str, method: str = "GET") -> str | None:
        """The endpoint taking ``path`` and ``method``, or ``None``."""
        found = self.resolve(path, method)
        return found[0].endpoint if found is not None else None

    def render(self, environ: Environ, endpoint: str, values: Mapping[str, Any]) -> str:
        """The body of a routed request: ``name:endpoint SCRIPT_NAME|PATH_INFO`` (override at will)."""
        return f"{self.name}:{endpoint} {environ.get('SCRIPT_NAME', '')}|{environ.get('PATH_INFO') or '/'}"

    def __call__(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        self.calls.append(path)
        found = self.resolve(path, method)
        if found is None:
            allowed = sorted({m for r in self.rules.values() if r.match(path) is not None for m in r.methods})
            if allowed:
                start_response("405 Method Not Allowed", [("Allow", ", ".join(allowed))])
                return [f"{method} not allowed in {self.name}".encode()]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"not found in {self.name}".encode()]
        token = _current.set(ReferenceRequest(environ, self))
        try:
            text = self.render(environ, found[0].endpoint, found[1])
            if self.on_request is not None:
                text += " " + str(self.on_request(environ))
        finally:
            _current.reset(token)
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if self.cookie:
            headers.append(("Set-Cookie", f"{self.cookie}=1; Path=/"))
        start_response("200 OK", headers)
        return [text.encode()]

    def __repr__(self) -> str:
        return f"<ReferenceApp {self.name!r} {sorted(self.rules)}>"


class ReferenceAdapter(Adapter[ReferenceApp]):
    """The adapter for :class:`ReferenceApp`: every part of the contract, nothing more.

    ``events``, when given, records ``"adapter start NAME"`` /
    ``"adapter stop NAME"`` as the hub's bus starts and stops.
    """

    framework: ClassVar[str] = FRAMEWORK

    def __init__(self, app: ReferenceApp, wsgi: WSGIApplication, events: list[str] | None = None) -> None:
        super().__init__(app, wsgi)
        self.events = events

    def routes(self) -> list[AppRoute]:
        """Every rule, with the methods it takes."""
        return [AppRoute(r.endpoint, r.rule, r.methods) for r in self.app.rules.values()]

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
        """The rule's path under ``script_name``; values it does not take become the query."""
        rule = self.app.rules.get(endpoint)
        if rule is None:
            raise UnknownEndpointError(f"no endpoint {endpoint!r}{closest(endpoint, self.app.rules)}")
        if method is not None and method.upper() not in rule.methods:
            raise URLBuildError(f"no rule for method {method.upper()!r} (methods: {', '.join(sorted(rule.methods))})")
        try:
            path = rule.build(values)
        except KeyError as exc:
            raise URLBuildError(f"missing value {exc.args[0]!r} for rule {rule.rule!r}") from None
        except ValueError as exc:
            raise URLBuildError(f"bad value: {exc}") from None
        taken = {name for name, _ in rule.arguments}
        query = [(k, v) for k, v in values.items() if k not in taken and v is not None]
        url = script_name + path + ("?" + urlencode(query) if query else "")
        return f"{scheme}://{host}{url}" if host is not None else url

    def match(self, path_info: str, method: str) -> bool:
        """Whether a rule takes the path and method."""
        return self.app.find(path_info, method) is not None

    @contextmanager
    def request_context(self, environ: Environ) -> Iterator[ReferenceRequest]:
        """:func:`current_request` is a request for ``environ`` inside; the previous one after."""
        request = ReferenceRequest(environ, self.app)
        token = _current.set(request)
        try:
            yield request
        finally:
            _current.reset(token)

    def cookies(self) -> list[Cookie]:
        """The session cookie, when the app sets one."""
        return [Cookie(self.app.cookie, "/", None, "session")] if self.app.cookie else []

    def start(self) -> None:
        if self.events is not None:
            self.events.append(f"adapter start {self.app.name}")

    def stop(self) -> None:
        if self.events is not None:
            self.events.append(f"adapter stop {self.app.name}")


class ReferencePlugin:
    """The plugin: a :class:`ReferenceAdapter` for any :class:`ReferenceApp` among the layers.

    ``events`` is handed to every adapter it makes (see :class:`ReferenceAdapter`).
    """

    def __init__(self, events: list[str] | None = None) -> None:
        self.events = events

    @hookimpl
    def wsgihub_adapter(
        self, app: WSGIApplication, layers: list[object], framework: str | None
    ) -> ReferenceAdapter | None:
        """One call to :func:`wsgihub.adapter.detect`, as every adapter plugin can do."""
        return detect(
            layers,
            framework,
            name=FRAMEWORK,
            module=__name__,
            classname="ReferenceApp",
            factory=lambda found, wsgi: ReferenceAdapter(found, wsgi, self.events),
        )


def reference_hub(*plugins: object, events: list[str] | None = None, **options: Any) -> Hub:
    """A :class:`~wsgihub.Hub` with the built-ins, the reference plugin and ``plugins`` only.

    ``options`` go to ``Hub(...)`` (``trusted_hosts``, ``public_url``...).
    """
    from ..hub import Hub
    from ..plugins import make_plugins

    manager = make_plugins(autoload=False, plugins=[ReferencePlugin(events), *plugins])
    return Hub(plugins=manager, **options)
