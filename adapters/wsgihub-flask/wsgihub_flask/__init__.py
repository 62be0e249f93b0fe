"""wsgihub plugin for Flask applications.

A Flask app mounted on a :class:`wsgihub.Hub` gets routes, URL building
that uses its **own** URL map even inside another app's request, graft
matching, ``hub.request_context()`` with ``flask.request``/``session``/``g``,
the session cookie collision check, and a ``hub_url`` Jinja global.  The
plugin is found through the ``wsgihub`` entry point group as ``flask``::

    hub.mount("/new", flask_app)
    hub.url_for("new:user", uid=5)      # '/new/users/5', from anywhere

See ``docs/adapters/flask.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import FlaskAdapter
    from .identity import current_user, login_with_hub, logout_user
    from .native import hub_url

__all__ = ["FlaskAdapter", "current_user", "hub_url", "login_with_hub", "logout_user"]
__version__ = "0.1.0"

# Importing the package (the plugin entry point does) must not import
# Flask: the names below load their module on first use.
_LAZY = {
    "FlaskAdapter": "adapter",
    "hub_url": "native",
    # the site's login (docs/login.md)
    "current_user": "identity",
    "login_with_hub": "identity",
    "logout_user": "identity",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
