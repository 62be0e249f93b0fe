"""wsgihub adapter for Pyramid.

Installed, it lets a :class:`wsgihub.Hub` mount, graft and build URLs into
Pyramid applications (the ``pyramid`` plugin, found by entry point).  In
the application itself, ``config.include("wsgihub_pyramid")`` adds
``request.hub_url(endpoint, **values)`` and ``request.hub``, and
``HubIdentityPolicy`` gives it the site's login (``request.identity``,
docs/login.md)::

    config = Configurator()
    config.include("wsgihub_pyramid")
    config.add_route("user", "/users/{uid}")
    app = config.make_wsgi_app()

    hub = wsgihub.Hub()
    hub.mount("/api", app)
    hub.url_for("api:user", uid=5)            # '/api/users/5'

Importing this package does not import Pyramid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .identity import HubIdentityPolicy

__all__ = ["HubIdentityPolicy", "__version__", "includeme"]

__version__ = "0.1.0"


def includeme(config: Any) -> None:
    """Pyramid's ``config.include("wsgihub_pyramid")`` entry: see :mod:`.request_methods`."""
    from .request_methods import includeme as _includeme

    _includeme(config)


def __getattr__(name: str) -> Any:
    # Lazy: importing the package (the plugin entry point does) must not import Pyramid.
    if name == "HubIdentityPolicy":
        from .identity import HubIdentityPolicy

        return HubIdentityPolicy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
