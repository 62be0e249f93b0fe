"""The ``pyramid`` wsgihub plugin: recognises Pyramid apps among a mount's layers.

Registered through the ``wsgihub`` entry point group under the name
``pyramid`` (block it with ``WSGIHUB_BLOCK_PLUGINS=pyramid``).  Looking
costs nothing when Pyramid was never imported: the ``Router`` class is
only looked up in :data:`sys.modules`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wsgihub import hookimpl
from wsgihub.adapter import detect

if TYPE_CHECKING:
    from wsgihub.adapter import Adapter
    from wsgihub.types import WSGIApplication

    from .adapter import PyramidAdapter

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
    return detect(
        layers,
        framework,
        name=FRAMEWORK,
        module="pyramid.router",
        classname="Router",
        factory=_adapter,
        forced=_adapter_from_registry,
    )


def _adapter(router: Any, app: WSGIApplication) -> PyramidAdapter:
    from .adapter import PyramidAdapter  # imports Pyramid: only once a Pyramid app exists

    return PyramidAdapter(router, app, router.registry)


def _adapter_from_registry(app: WSGIApplication, layers: Sequence[object]) -> PyramidAdapter | None:
    """Forced onto an opaque wrapper: the first layer whose ``.registry`` is a Pyramid registry."""
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
