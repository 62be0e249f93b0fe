"""The adapter contract: what a framework plugin does for one mounted app.

A framework plugin implements the ``wsgihub_adapter`` hook and returns an
instance of an :class:`Adapter` subclass for the apps of its framework;
:func:`detect` makes the hook one call::

    from wsgihub import hookimpl
    from wsgihub.adapter import Adapter, detect

    class BottleAdapter(Adapter["bottle.Bottle"]):
        framework = "bottle"
        ...

    @hookimpl
    def wsgihub_adapter(app, layers, framework):
        return detect(layers, framework, name="bottle", module="bottle",
                      classname="Bottle", factory=BottleAdapter)

Every method has a working default, so an adapter overrides only what its
framework can do.  The hub calls them; user code calls the hub.  What the
hub does for every adapter, so that none repeats it:

- it sets :attr:`Adapter.peg` before :meth:`Adapter.mounted` runs, so
  :attr:`Adapter.mount` names the mount in the adapter's own messages;
- it prefixes the errors :meth:`Adapter.build` raises with
  ``cannot build 'mount:endpoint': `` and sets their ``endpoint``, so an
  adapter's message speaks about the endpoint only;
- :func:`wsgihub.find_hub` tells which hub serves a request, and
  :meth:`wsgihub.Hub.origin` / :attr:`wsgihub.Hub.public_origin` where
  absolute URLs point.

``wsgihub.testing.conformance`` checks an adapter against this contract.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from .errors import AdapterError

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub
    from .types import Environ, WSGIApplication

__all__ = [
    "UNWRAP_ATTRIBUTES",
    "Adapter",
    "AppRoute",
    "Cookie",
    "detect",
    "find_instance",
    "layers",
]

if TYPE_CHECKING:
    # PEP 696 default: a bare ``Adapter`` means ``Adapter[Any]``, even under
    # ``mypy --strict`` (typing.TypeVar takes ``default=`` from Python 3.13 on).
    from typing_extensions import TypeVar

    #: The type of the framework's own app object an adapter works with.
    AppT = TypeVar("AppT", default=Any)
else:
    from typing import TypeVar

    AppT = TypeVar("AppT")

#: An adapter class (what :func:`detect` returns).
AdapterT = TypeVar("AdapterT", bound="Adapter[Any]")

#: Attributes followed, in this order, to look through middleware.
UNWRAP_ATTRIBUTES: tuple[str, ...] = ("__wrapped__", "app", "application", "wsgi", "_app", "wsgi_app")

#: Never look deeper than this: wrappers that point back at themselves exist.
MAX_LAYERS = 32


@dataclass(frozen=True, slots=True)
class AppRoute:
    """One route of an app, relative to the app's own root.

    ``rule`` is the framework's own rule text with its converters
    (``/users/<int:uid>``, ``blog/<int:pk>/``); ``methods`` is ``None`` when
    the framework does not restrict methods (Django).

    Optional, for the graft analysis (:mod:`wsgihub.rules`): ``regex`` is
    the regular expression the framework matches the path against (``/``
    first, matched in full) when the rule text alone does not say it
    (Django's ``re_path`` and included prefixes); ``None`` lets the hub
    read ``rule`` in the framework's grammar.  ``static`` marks a route
    that serves files (Flask's ``static``, Django's staticfiles, Pyramid
    static views).
    """

    endpoint: str
    rule: str
    methods: frozenset[str] | None = None
    regex: str | None = None
    static: bool = False


@dataclass(frozen=True, slots=True)
class Cookie:
    """A cookie an app sets, for the collision check (``path`` as sent)."""

    name: str
    path: str = "/"
    domain: str | None = None
    purpose: str = "session"


class Adapter(Generic[AppT]):
    """What the hub needs from a framework for one app.

    ``app`` is the framework's own object found among the layers (the
    ``Flask`` instance, Django's ``WSGIHandler``, Pyramid's ``Router``);
    ``wsgi`` is the callable that was mounted (perhaps middleware around it);
    the hub serves ``wsgi``, so an adapter for apps that are not WSGI (ASGI)
    sets it to a bridge (:mod:`wsgihub_starlette`).
    The class is generic in the type of ``app`` (``Adapter[Flask]``); a
    plain ``Adapter`` subclass works as before, with ``app`` of any type.
    """

    #: The framework's name as users write it in ``mount(framework=...)``.
    framework: ClassVar[str] = "wsgi"

    #: The peg the app hangs on; the hub sets it before :meth:`mounted` runs
    #: (``None`` until then).
    peg: Peg | None = None

    def __init__(self, app: AppT, wsgi: WSGIApplication) -> None:
        self.app: AppT = app
        self.wsgi = wsgi

    @property
    def mount(self) -> str | None:
        """The name of the mount the app hangs on (``None`` before it is mounted)."""
        peg = self.peg
        if peg is not None:
            return peg.name
        named: str | None = self.__dict__.get("_mount_name")
        return named

    @mount.setter
    def mount(self, name: str | None) -> None:
        # Adapters written before the hub set ``peg`` kept the name themselves
        # (``self.mount = peg.name`` in mounted()); that keeps working.
        self.__dict__["_mount_name"] = name

    def describe(self) -> str:
        """``mount 'new' (flask)``: how the adapter's own messages name the app."""
        mount = self.mount
        if mount is None:
            return f"an unmounted {self.framework} app"
        return f"mount {mount!r} ({self.framework})"

    # -- mounting -----------------------------------------------------
    def mounted(self, hub: Hub, peg: Peg) -> None:
        """The app was hung on ``peg`` (already :attr:`peg`): check it, expose the hub to it.

        Raise :class:`wsgihub.MountError` to refuse the mount (the hub then
        leaves no trace of it); warn with :class:`wsgihub.MountWarning` for
        what works but will surprise.
        """

    def unmounted(self, hub: Hub, peg: Peg) -> None:
        """The app was taken off ``peg``; undo what :meth:`mounted` did."""

    # -- routes and URLs ----------------------------------------------
    def routes(self) -> Iterable[AppRoute]:
        """Every route of the app, rules relative to the app's root."""
        return ()

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
        """Build the URL of ``endpoint`` with ``values``.

        ``script_name`` is the full path the app is mounted at (already
        percent-safe), ``host`` is ``None`` for a relative URL (return
        ``script_name + path + query``) or the trusted ``host[:port]`` for an
        absolute one (return ``scheme://host/...``).  Values the route does not
        take become query arguments where the framework does that.

        Raise :class:`wsgihub.errors.UnknownEndpointError` when the app has
        no such endpoint, and :class:`wsgihub.URLBuildError` when a value is
        missing or refused; the message is one line about the endpoint only
        (``missing value 'uid' for '/users/<int:uid>'``): the hub prefixes
        it with ``cannot build 'mount:endpoint': `` and sets ``endpoint``.
        """
        raise AdapterError(f"{self.describe()}: the {self.framework} adapter cannot build URLs")

    def match(self, path_info: str, method: str) -> bool | None:
        """Does the app have a route for this path and method?

        Used by grafts.  ``None`` means "cannot tell": the hub then falls
        back to a cascade that tries the app and falls through on 404.
        A yes may be any truthy object other than ``True``: a graft over one
        mount hands it to the app in ``environ[wsgihub.grafts.MATCH_KEY]``
        (the Flask adapter answers with Werkzeug's own match, which the
        grafted app takes instead of matching again).
        """
        return None

    def match_endpoint(self, path_info: str, method: str) -> str | bool | None:
        """The endpoint of the route that takes this path and method (scoped grafts).

        The endpoint's name (as :meth:`routes` lists it) when a route takes
        the request, ``False`` when none does, ``True`` when one does but
        cannot be named, ``None`` when the adapter cannot tell.  The default
        answers :meth:`match`: a graft scoped with ``only=``/``exclude=``
        then counts every route as in scope.
        """
        return self.match(path_info, method)

    def reachable_routes(self) -> Iterable[AppRoute]:
        """Every route a request can reach, for the graft analysis (``wsgihub check``).

        :meth:`routes` plus the routes that cannot be built (Django's
        unnamed patterns, named after their view), minus the ones that
        only build URLs (Pyramid's static routes).  The default is
        :meth:`routes`.
        """
        return self.routes()

    def endpoint(self, environ: Environ) -> str | None:
        """The endpoint that served the request ``environ`` was, after the app ran.

        For the access log (:mod:`wsgihub.accesslog`), which asks only when
        it writes a line: read what the framework left in the environ (cheap)
        or match the path again.  ``environ`` has the app's own
        ``SCRIPT_NAME``/``PATH_INFO``.  ``None`` (the default): cannot tell.
        The access log to a file asks later, from its own thread, with an
        environ of only ``REQUEST_METHOD``, ``SCRIPT_NAME``, ``PATH_INFO``,
        ``HTTP_HOST`` and ``pegboard.peg``: match on those.
        """
        return None

    # -- running code inside the app ------------------------------------
    def request_context(self, environ: Environ) -> AbstractContextManager[Any]:
        """A context manager inside which the framework's request helpers work.

        ``environ`` already has the app's ``SCRIPT_NAME``/``PATH_INFO``.  It
        enters as the framework's request object, and on exit puts back
        whatever framework state it changed (however the block ends).  The
        default raises :class:`wsgihub.errors.AdapterError`: an adapter that
        cannot run code inside its framework says so instead of pretending.
        """
        raise AdapterError(
            f"{self.describe()}: the {self.framework} adapter has no request context "
            f"({type(self).__name__} does not implement request_context)"
        )

    # -- checks ---------------------------------------------------------
    def cookies(self) -> Iterable[Cookie]:
        """The cookies the app sets on its own (session, CSRF), for collisions."""
        return ()

    def same_app_as(self, other: Adapter[Any]) -> bool:
        """Whether ``other`` serves the same application (one app at two mounts).

        The collision checks skip such pairs.  Frameworks with one app per
        process (Django) override this.
        """
        return self.app is other.app

    def problems(self, hub: Hub, peg: Peg) -> Iterable[str]:
        """One-line descriptions of what works but will surprise (``wsgihub check``)."""
        return ()

    # -- lifecycle --------------------------------------------------------
    def start(self) -> None:
        """The hub's bus started (setup propagates root to leaves)."""

    def stop(self) -> None:
        """The hub's bus is stopping: release connections, pop contexts."""

    def __repr__(self) -> str:
        mount = f" mount={self.mount!r}" if self.mount is not None else ""
        return f"<{type(self).__name__} {self.framework}{mount} {self.app!r}>"


def _inner(obj: object, unwrap: Any = None) -> Iterator[object]:
    """The objects ``obj`` directly wraps, by the well-known attributes."""
    if isinstance(obj, functools.partial):
        yield obj.func
        # partial(middleware_func, app): the app is a bound argument
        yield from (arg for arg in (*obj.args, *obj.keywords.values()) if callable(arg))
    self_ = getattr(obj, "__self__", None)
    if self_ is not None and not isinstance(obj, type) and not _is_module(self_):
        yield self_
    for name in UNWRAP_ATTRIBUTES:
        try:
            inner = getattr(obj, name, None)
        except Exception:  # noqa: BLE001  (a property that raises: not a wrapper we know)
            inner = None
        if inner is not None and inner is not obj:
            yield inner
    if unwrap is not None:
        for result in unwrap(obj=obj):
            if result:
                yield from result


def _is_module(obj: object) -> bool:
    return type(obj).__name__ == "module"


def layers(app: object, unwrap: Any = None) -> tuple[object, ...]:
    """``app`` and every object found inside it, outermost first.

    Follows :data:`UNWRAP_ATTRIBUTES`, a bound method's ``__self__`` and
    ``functools.partial.func``, plus whatever ``unwrap(obj=...)`` (the
    ``wsgihub_unwrap`` hook caller) returns.  Breadth first, each object once.
    """
    seen: set[int] = {id(app)}
    order: list[object] = [app]
    i = 0
    while i < len(order) and len(order) < MAX_LAYERS:
        for inner in _inner(order[i], unwrap):
            if id(inner) not in seen and not isinstance(inner, (str, bytes, int, float)):
                seen.add(id(inner))
                order.append(inner)
        i += 1
    return tuple(order)


def find_instance(found: Sequence[object], module: str, classname: str) -> object | None:
    """The first layer that is an instance of ``module.classname``, or ``None``.

    Looks the class up in :data:`sys.modules` only: if the framework was
    never imported, no app of it can exist, and nothing is imported to look.
    """
    mod = sys.modules.get(module)
    cls = getattr(mod, classname, None) if mod is not None else None
    if not isinstance(cls, type):
        return None
    for obj in found:
        if isinstance(obj, cls):
            return obj
    return None


def detect(
    layers: Sequence[object],
    framework: str | None,
    *,
    name: str,
    factory: Callable[[Any, WSGIApplication], AdapterT | None],
    module: str | None = None,
    classname: str | None = None,
    find: Callable[[Sequence[object]], object | None] | None = None,
    forced: Callable[[WSGIApplication, Sequence[object]], AdapterT | None] | None = None,
) -> AdapterT | None:
    """The body of a ``wsgihub_adapter`` hook, in one call.

    ``name`` is the framework's name (what ``mount(framework=...)`` takes).
    The framework's app is the first layer that is an instance of
    ``module.classname`` (looked up in :data:`sys.modules` only, see
    :func:`find_instance`), or whatever ``find(layers)`` returns that is not
    ``None``.  Then:

    - ``framework`` names another framework: ``None`` (not ours);
    - the app was found: ``factory(found, app)``, ``app`` being the mounted
      callable (``layers[0]``, as the hook receives it);
    - not found, not forced: ``None``;
    - not found but forced with ``framework=name``: ``forced(app, layers)``
      when given (an adapter that works from the mounted callable alone),
      else ``None``; the hub then refuses the mount with a message naming
      the mount and the framework.

    ::

        @hookimpl
        def wsgihub_adapter(app, layers, framework):
            return detect(layers, framework, name="flask", module="flask",
                          classname="Flask", factory=FlaskAdapter)
    """
    if framework is not None and framework != name:
        return None
    if not layers:
        return None
    if (find is None) == (module is None or classname is None):
        raise TypeError("detect() takes either module= and classname=, or find=")
    app: WSGIApplication = layers[0]  # type: ignore[assignment]
    found: object | None
    if find is not None:
        found = find(layers)
    else:
        found = find_instance(layers, module, classname)  # type: ignore[arg-type]
    if found is not None:
        return factory(found, app)
    if framework == name and forced is not None:
        return forced(app, layers)
    return None
