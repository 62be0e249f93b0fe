"""wsgihub plugin for Starlette and FastAPI applications (ASGI apps in a WSGI hub).

A Starlette or FastAPI app mounted on a :class:`wsgihub.Hub` runs under any
WSGI server through a streaming bridge (a2wsgi) whose lifespan the hub's bus
drives, and gets what the other adapters give: routes (mounted sub-apps and
routers, static files), URL building from anywhere
(``hub.url_for("api:read_item", item_id=3)`` -> ``/api/items/3``), grafts
that match with Starlette's own router, ``hub.request_context()`` with a
Starlette ``Request``, the session cookie check, the partyline ``url``
service, and ``request.state.hub_url`` / the FastAPI dependency ``HubURL``::

    hub.mount("/api", fastapi_app)
    hub.graft(fastapi_app, over="legacy")

See ``docs/adapters/starlette.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import StarletteAdapter
    from .bridge import Bridge, LifespanError, bridge_for
    from .native import HubURL, hub_url

__all__ = ["Bridge", "HubURL", "LifespanError", "StarletteAdapter", "bridge_for", "hub_url"]
__version__ = "0.1.0"

# Importing the package (the plugin entry point does) must not import
# Starlette: the names below load their module on first use.
_LAZY = {
    "StarletteAdapter": "adapter",
    "Bridge": "bridge",
    "LifespanError": "bridge",
    "bridge_for": "bridge",
    "HubURL": "native",
    "hub_url": "native",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
