"""Which hub a piece of Django code should ask: the native exposure's helper.

Django has no request global, so the hub is found, in this order, from
the request being rendered, from the request the hub is serving in this
thread or task (both :func:`wsgihub.find_hub`), and last from the hub that mounted a Django
app most recently in this process (code run outside requests: management
commands, tests, background jobs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsgihub import WsgihubError, find_hub

from .registry import latest_hub

if TYPE_CHECKING:
    from wsgihub import Hub

__all__ = ["hub_for", "hub_url"]


def hub_for(request: Any = None) -> Hub:
    """The hub that serves ``request`` (or the current request), else the mounting hub."""
    environ = getattr(request, "environ", None) if request is not None else None
    hub = find_hub(environ if isinstance(environ, dict) else None) or latest_hub()
    if hub is None:
        raise WsgihubError(
            "no wsgihub hub: this Django project is not mounted on a Hub and no hub serves "
            "the current request (mount it with hub.mount(prefix, get_wsgi_application()))"
        )
    return hub


def hub_url(endpoint: str, /, **values: Any) -> str:
    """``hub.url_for(endpoint, **values)`` on the hub serving this Django code.

    For views and other Python code: ``hub_url("new:user", uid=5)`` ->
    ``'/new/users/5'``.  Takes the same ``_external``, ``_anchor``,
    ``_scheme`` and ``_method`` options as :meth:`wsgihub.Hub.url_for`.
    """
    return hub_for().url_for(endpoint, **values)
