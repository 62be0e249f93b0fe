"""The adapter contract: what a framework plugin does for one mounted app.

A framework plugin implements the ``wsgihub_adapter`` hook and returns an
instance of an :class:`Adapter` subclass for the apps of its framework::

    from wsgihub import hookimpl
    from wsgihub.adapter import Adapter, find_instance

    class BottleAdapter(Adapter):
        framework = "bottle"
        ...

    @hookimpl
    def wsgihub_adapter(app, layers, framework):
        if framework not in (None, "bottle"):
            return None
        found = find_instance(layers, "bottle", "Bottle")
        return BottleAdapter(found, app) if found is not None else None

Every method has a working default, so an adapter overrides only what its
framework can do.  The hub calls them; user code calls the hub.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .board import Peg
    from .hub import Hub
    from .types import Environ, WSGIApplication

__all__ = [
    "UNWRAP_ATTRIBUTES",
    "Adapter",
    "AppRoute",
    "Cookie",
    "find_instance",
    "layers",
]

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
    """

    endpoint: str
    rule: str
    methods: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Cookie:
    """A cookie an app sets, for the collision check (``path`` as sent)."""

    name: str
    path: str = "/"
    domain: str | None = None
    purpose: str = "session"


class Adapter:
    """What the hub needs from a framework for one app.

    ``app`` is the framework's own object found among the layers (the
    ``Flask`` instance, Django's ``WSGIHandler``, Pyramid's ``Router``);
    ``wsgi`` is the callable that was mounted (perhaps middleware around it).
    """

    #: The framework's name as users write it in ``mount(framework=...)``.
    framework: ClassVar[str] = "wsgi"

    def __init__(self, app: object, wsgi: WSGIApplication) -> None:
        self.app = app
        self.wsgi = wsgi

    # -- mounting -----------------------------------------------------
    def mounted(self, hub: Hub, peg: Peg) -> None:
        """The app was hung on ``peg``: check it, expose the hub to it.

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
        take become query arguments where the framework does that.  Raise
        :class:`wsgihub.UnknownEndpointError` or :class:`wsgihub.URLBuildError`
        with a one-line message naming the endpoint.
        """
        from .errors import AdapterError

        raise AdapterError(f"the {self.framework} adapter cannot build URLs")

    def match(self, path_info: str, method: str) -> bool | None:
        """Does the app have a route for this path and method?

        Used by grafts.  ``None`` means "cannot tell": the hub then falls
        back to a cascade that tries the app and falls through on 404.
        """
        return None

    # -- running code inside the app ------------------------------------
    def request_context(self, environ: Environ) -> AbstractContextManager[object]:
        """A context manager inside which the framework's request helpers work.

        ``environ`` already has the app's ``SCRIPT_NAME``/``PATH_INFO``.  The
        value it enters as is the framework's request object (or ``None``).
        """
        return nullcontext()

    # -- checks ---------------------------------------------------------
    def cookies(self) -> Iterable[Cookie]:
        """The cookies the app sets on its own (session, CSRF), for collisions."""
        return ()

    def same_app_as(self, other: Adapter) -> bool:
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
        return f"<{type(self).__name__} {self.framework} {self.app!r}>"


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
        except Exception:  # a property that raises: not a wrapper we know
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
    if cls is None:
        return None
    for obj in found:
        if isinstance(obj, cls):
            return obj
    return None
