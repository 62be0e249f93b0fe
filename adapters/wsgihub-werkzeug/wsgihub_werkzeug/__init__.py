"""wsgihub plugin for Werkzeug applications.

Any app with a ``url_map`` (a ``werkzeug.routing.Map``) mounted on a
:class:`wsgihub.Hub` gets routes, URL building, graft matching and a
request context; Werkzeug's ``DispatcherMiddleware`` is read as more
mounts.  Installed, the plugin is found through the ``wsgihub`` entry
point group under the name ``werkzeug``::

    hub.mount("/shop", shop_app)          # shop_app.url_map is a Map
    hub.url_for("shop:item", id=3)        # '/shop/items/3'

See ``docs/adapters/werkzeug.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import WerkzeugAdapter
    from .native import HubRequest, HubRequestMixin
    from .urls import MapURLs

__all__ = ["HubRequest", "HubRequestMixin", "MapURLs", "WerkzeugAdapter"]
__version__ = "0.1.0"

# Importing the package (the plugin entry point does) must not import
# Werkzeug: the names below load their module on first use.
_LAZY = {
    "WerkzeugAdapter": "adapter",
    "MapURLs": "urls",
    "HubRequest": "native",
    "HubRequestMixin": "native",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
