"""The wsgihub plugin for Starlette and FastAPI (entry point ``starlette``).

``wsgihub_adapter`` gives a :class:`~wsgihub_starlette.adapter.StarletteAdapter`
to any mounted app with a ``starlette.applications.Starlette`` (FastAPI's
base class) or a bare ``starlette.routing.Router`` among its layers, behind
ASGI middleware (``.app``) or behind a WSGI bridge (this package's
:class:`~wsgihub_starlette.bridge.Bridge`, ``a2wsgi.ASGIMiddleware``).

An ASGI app mounted as it is (``hub.mount("/api", fastapi_app)``) is served
through its :func:`~wsgihub_starlette.bridge.bridge_for`: the adapter's ``wsgi``
is the bridge, which the hub calls.

Nothing here imports Starlette or FastAPI: the classes are looked up in
:data:`sys.modules` only (if Starlette was never imported, no app of it exists).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wsgihub import hookimpl
from wsgihub.adapter import detect, find_instance

if TYPE_CHECKING:
    from wsgihub.adapter import Adapter
    from wsgihub.types import WSGIApplication

    from .adapter import StarletteAdapter

__all__ = ["FRAMEWORK", "find_app", "wsgihub_adapter"]

FRAMEWORK = "starlette"


@hookimpl
def wsgihub_adapter(app: WSGIApplication, layers: Sequence[object], framework: str | None) -> Adapter | None:
    """A :class:`StarletteAdapter` for the first Starlette app (or Router) among ``layers``."""
    return detect(layers, framework, name=FRAMEWORK, find=find_app, factory=lambda found, wsgi: _adapter(found, layers))


def find_app(layers: Sequence[object]) -> object | None:
    """The first ``Starlette`` (FastAPI included) or ``Router`` among ``layers``, else ``None``."""
    return find_instance(layers, "starlette.applications", "Starlette") or find_instance(
        layers, "starlette.routing", "Router"
    )


def is_wsgi_bridge(obj: object) -> bool:
    """Whether ``obj`` serves an ASGI app to WSGI servers (this package's bridge, a2wsgi's)."""
    from .bridge import Bridge

    if isinstance(obj, Bridge):
        return True
    a2wsgi: Any = sys.modules.get("a2wsgi.asgi")
    middleware = getattr(a2wsgi, "ASGIMiddleware", None)
    return isinstance(middleware, type) and isinstance(obj, middleware)


def _adapter(found: Any, layers: Sequence[object]) -> StarletteAdapter:
    from .adapter import StarletteAdapter  # imports Starlette: only once a Starlette app exists

    return StarletteAdapter.for_layers(found, layers)
