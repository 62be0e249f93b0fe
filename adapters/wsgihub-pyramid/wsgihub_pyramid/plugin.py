"""The ``pyramid`` wsgihub plugin: recognises Pyramid apps among a mount's layers.

Registered through the ``wsgihub`` entry point group under the name
``pyramid`` (block it with ``WSGIHUB_BLOCK_PLUGINS=pyramid``).  Looking
costs nothing when Pyramid was never imported: the ``Router`` class is
only looked up in :data:`sys.modules`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from wsgihub import hookimpl
from wsgihub.adapter import find_instance

if TYPE_CHECKING:
    from wsgihub.adapter import Adapter
    from wsgihub.types import WSGIApplication

__all__ = ["FRAMEWORK", "wsgihub_adapter"]

FRAMEWORK = "pyramid"


@hookimpl
def wsgihub_adapter(
    app: WSGIApplication, layers: Sequence[object], framework: str | None
) -> Adapter | None:
    """A :class:`~wsgihub_pyramid.adapter.PyramidAdapter` for a ``pyramid.router.Router``.

    The router is looked for among ``layers`` (middleware already seen
    through).  When ``framework="pyramid"`` is forced and no router is
    visible, a layer that carries a Pyramid registry as ``.registry`` (a
    wrapper that hides the router but keeps its registry) is enough.
    """
    if framework not in (None, FRAMEWORK):
        return None
    router = find_instance(layers, "pyramid.router", "Router")
    if router is not None:
        from .adapter import PyramidAdapter

        return PyramidAdapter(router, app, router.registry)  # type: ignore[attr-defined]
    if framework is None:
        return None
    registry_module = sys.modules.get("pyramid.registry")
    registry_class = getattr(registry_module, "Registry", None)
    if registry_class is None:
        return None
    for layer in layers:
        registry = getattr(layer, "registry", None)
        if isinstance(registry, registry_class):
            from .adapter import PyramidAdapter

            return PyramidAdapter(layer, app, registry)
    return None
