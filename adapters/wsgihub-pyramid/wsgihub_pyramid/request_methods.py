"""The hub, the Pyramid way: ``request.hub_url`` and ``request.hub``.

Add them to an application with ``config.include("wsgihub_pyramid")``::

    def main(global_config, **settings):
        config = Configurator(settings=settings)
        config.include("wsgihub_pyramid")
        ...

    @view_config(route_name="home", renderer="home.jinja2")
    def home(request):
        raise HTTPFound(request.hub_url("new:user", uid=5))   # '/new/users/5'

Templates rendered through Pyramid renderers get ``hub_url`` too (a
``BeforeRender`` subscriber), unless the view already returned one.

Which hub: the one serving this request, else the one serving the
current thread's request (both :func:`wsgihub.find_hub`), else the one the app was last mounted on
(recorded in ``registry["wsgihub.hub"]`` by the adapter), so scripts and
tests that run the app outside a hub request still build URLs.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import wsgihub
from wsgihub.errors import WsgihubError

from .adapter import HUB_KEY

if TYPE_CHECKING:
    from wsgihub import Hub

__all__ = ["add_renderer_globals", "find_hub", "hub_url", "includeme"]


def find_hub(request: Any) -> Hub | None:
    """The hub ``request`` belongs to (see the module docs), or ``None``."""
    hub = wsgihub.find_hub(request.environ)
    if hub is None:
        registry = getattr(request, "registry", None)
        mounting: Hub | None = registry.get(HUB_KEY) if registry is not None else None
        return mounting
    return hub


def hub_url(request: Any, endpoint: str, /, **values: Any) -> str:
    """``hub.url_for(endpoint, **values)`` on the request's hub (``request.hub_url``)."""
    hub = find_hub(request)
    if hub is None:
        raise WsgihubError(
            f"request.hub_url({endpoint!r}): this Pyramid app is not mounted on a wsgihub Hub"
        )
    return hub.url_for(endpoint, **values)


def add_renderer_globals(event: Any) -> None:
    """``BeforeRender`` subscriber: ``hub_url`` in every renderer's namespace."""
    request = event.get("request")
    if request is not None and "hub_url" not in event:
        event["hub_url"] = partial(hub_url, request)


def includeme(config: Any) -> None:
    """Add ``request.hub_url``, ``request.hub`` and the ``hub_url`` renderer global."""
    from pyramid.events import BeforeRender

    config.add_request_method(hub_url, "hub_url")
    config.add_request_method(find_hub, "hub", reify=True)
    config.add_subscriber(add_renderer_globals, BeforeRender)
