"""The wsgihub plugin for Werkzeug (entry point ``werkzeug``).

- ``wsgihub_adapter`` (``trylast``): any layer of a mounted app whose
  ``url_map`` is a ``werkzeug.routing.Map`` gets a
  :class:`~wsgihub_werkzeug.adapter.WerkzeugAdapter`.  It runs last because
  a Flask app has a ``url_map`` too and the Flask plugin knows it better.
- ``wsgihub_submounts``: Werkzeug's own ``DispatcherMiddleware`` is read as
  more mounts (``app`` at the prefix, each of ``mounts`` below it), nested
  dispatchers included.

Nothing here imports Werkzeug: a class that was never imported has no
instances, so :data:`sys.modules` is enough to look.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from wsgihub import hookimpl
from wsgihub.adapter import detect

if TYPE_CHECKING:
    from wsgihub.adapter import Adapter
    from wsgihub.types import WSGIApplication

    from .adapter import WerkzeugAdapter

__all__ = ["FRAMEWORK", "find_url_map", "wsgihub_adapter", "wsgihub_submounts"]

FRAMEWORK = "werkzeug"


def find_url_map(layers: Sequence[object]) -> tuple[object, object] | None:
    """``(holder, url_map)`` for the first ``url_map`` that is a Werkzeug ``Map``.

    The holder is the innermost layer with that same map: ``functools.wraps``
    copies an app's ``__dict__`` (and so its ``url_map``) onto its wrapper.
    """
    routing = sys.modules.get("werkzeug.routing")
    map_class = getattr(routing, "Map", None)
    if map_class is None:
        return None
    found: tuple[object, object] | None = None
    for layer in layers:
        try:
            url_map = getattr(layer, "url_map", None)
        except Exception:  # noqa: BLE001, S112  (a property that raises: not an app we know)
            continue
        if isinstance(url_map, map_class) and (found is None or url_map is found[1]):
            found = (layer, url_map)
    return found


@hookimpl(trylast=True)
def wsgihub_adapter(app: WSGIApplication, layers: Sequence[object], framework: str | None) -> Adapter | None:
    """A :class:`WerkzeugAdapter` for an app with a ``url_map`` (or forced with ``framework="werkzeug"``).

    Forced onto an app without a ``url_map``, the adapter has no routes and
    builds no URLs, but ``hub.request_context()`` works.
    """
    return detect(layers, framework, name=FRAMEWORK, find=find_url_map, factory=_adapter, forced=_bare_adapter)


def _adapter(found: tuple[object, object], app: WSGIApplication) -> WerkzeugAdapter:
    from .adapter import WerkzeugAdapter

    holder, url_map = found
    return WerkzeugAdapter(holder, app, url_map)  # type: ignore[arg-type]


def _bare_adapter(app: WSGIApplication, layers: Sequence[object]) -> WerkzeugAdapter:
    from .adapter import WerkzeugAdapter

    return WerkzeugAdapter(app, app, None)


@hookimpl
def wsgihub_submounts(
    app: WSGIApplication, layers: Sequence[object]
) -> tuple[WSGIApplication, Mapping[str, WSGIApplication]] | None:
    """``(app.app, app.mounts)`` for a ``werkzeug.middleware.dispatcher.DispatcherMiddleware``."""
    module = sys.modules.get("werkzeug.middleware.dispatcher")
    cls = getattr(module, "DispatcherMiddleware", None)
    if cls is not None and isinstance(app, cls):
        return app.app, app.mounts
    return None
