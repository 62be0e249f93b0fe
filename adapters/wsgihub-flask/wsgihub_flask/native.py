"""The hub, the Flask way: a Jinja global and a helper for views.

Once an app is mounted, its templates can link anywhere on the site::

    <a href="{{ hub_url('legacy:blog:detail', pk=3) }}">the old blog</a>
    <a href="{{ hub_url('new:user', uid=5, _external=True) }}">...</a>

and its Python code can do the same::

    from wsgihub_flask.native import hub_url
    return redirect(hub_url("legacy:login", next=request.path))

``hub_url`` takes what ``hub.url_for`` takes (``mount:endpoint``, values,
``_external``, ``_anchor``, ``_method``, ``_scheme``).  It uses the hub
serving the current request, and outside requests the hub the app was
mounted on.  Flask's own ``url_for`` keeps working for the app's own
endpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context
from wsgihub_werkzeug import native as _native

import wsgihub

if TYPE_CHECKING:
    from flask import Flask

    from wsgihub import Hub

__all__ = ["TEMPLATE_GLOBAL", "conceal", "expose", "hub_url"]

TEMPLATE_GLOBAL = _native.TEMPLATE_GLOBAL


def expose(app: Flask, hub: Hub) -> _native.HubURL:
    """Add the ``hub_url`` Jinja global for ``hub`` to ``app``; return it (for :func:`conceal`)."""
    function = _native.make_hub_url(hub)
    _native.expose(app.jinja_env.globals, function)
    return function


def conceal(app: Flask, function: _native.HubURL | None) -> None:
    """Remove the ``hub_url`` global if it is still ``function``."""
    _native.conceal(app.jinja_env.globals, function)


def hub_url(endpoint: str, /, **values: Any) -> str:
    """``hub.url_for`` for Flask code: the current request's hub, else the app's own."""
    hub = wsgihub.find_hub()
    if hub is not None:
        return hub.url_for(endpoint, **values)
    if has_app_context():
        function = current_app.jinja_env.globals.get(TEMPLATE_GLOBAL)
        if callable(function):
            return function(endpoint, **values)  # type: ignore[no-any-return]
    raise wsgihub.WsgihubError(
        f"hub_url({endpoint!r}): no hub serves this request and the current Flask app is not mounted on one"
    )
