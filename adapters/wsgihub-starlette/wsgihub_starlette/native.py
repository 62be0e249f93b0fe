"""The hub, the Starlette and FastAPI way: ``request.state.hub_url`` and a ``HubURL`` dependency.

In any request the hub serves, ``request.state.hub_url`` builds URLs to any
mount of the site (it is ``hub.url_for``)::

    async def page(request):
        return RedirectResponse(request.state.hub_url("legacy:login", next=request.url.path))

FastAPI code asks for it as a dependency::

    from wsgihub_starlette import HubURL

    @app.get("/items/{item_id}")
    def read_item(item_id: int, hub_url: HubURL):
        return {"blog": hub_url("legacy:blog:detail", pk=item_id)}

``hub_url`` takes what ``hub.url_for`` takes (``mount:endpoint``, values,
``_external``, ``_anchor``, ``_method``, ``_scheme``).  Starlette's own
``request.url_for`` keeps working for the app's own routes (with the mount
prefix: the bridge gives the app the mount as its ``root_path``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from starlette.requests import HTTPConnection

import wsgihub

from .bridge import HUB_URL_STATE

if TYPE_CHECKING:
    from wsgihub import Hub

__all__ = ["STATE_KEY", "HubURL", "hub_url", "hub_url_for"]

#: The name of the helper in ``request.state`` (the bridge puts it there).
STATE_KEY = HUB_URL_STATE

#: What ``hub_url`` is: ``hub_url("mount:endpoint", **values) -> str``.
HubURLFunction = Callable[..., str]


def _hub_of(connection: HTTPConnection) -> Hub:
    environ = connection.scope.get("wsgi_environ")
    hub = wsgihub.find_hub(environ if isinstance(environ, dict) else None)
    if hub is None:
        raise wsgihub.WsgihubError(
            f"hub_url: the request for {connection.url.path!r} was not served by a hub (mount the app on one)"
        )
    return hub


def hub_url_for(connection: HTTPConnection) -> HubURLFunction:
    """``hub.url_for`` of the hub serving ``connection`` (a ``Request`` or ``WebSocket``).

    The FastAPI dependency behind :data:`HubURL`; raises
    :class:`wsgihub.WsgihubError` outside a request a hub serves.
    """
    return _hub_of(connection).url_for


def hub_url(connection: HTTPConnection, endpoint: str, /, **values: Any) -> str:
    """``hub.url_for(endpoint, **values)`` for the hub serving ``connection``."""
    return _hub_of(connection).url_for(endpoint, **values)


def _dependency() -> Any:
    # FastAPI is optional (plain Starlette apps use request.state.hub_url).
    try:
        from fastapi import Depends
    except ImportError:  # pragma: no cover - FastAPI not installed
        return HubURLFunction
    return Annotated[HubURLFunction, Depends(hub_url_for)]


#: A FastAPI parameter type: ``def view(hub_url: HubURL)`` gets ``hub.url_for``.
HubURL: Any = _dependency()
