"""wsgihub-django: a Django project on a wsgihub Hub.

Installing the distribution is enough for the hub to recognise Django's
``WSGIHandler`` (also behind middleware)::

    import wsgihub
    from django.core.wsgi import get_wsgi_application

    hub = wsgihub.Hub()
    hub.mount("/legacy", get_wsgi_application(), name="legacy")
    hub.url_for("legacy:blog:detail", pk=3)      # '/legacy/blog/3/'

Inside Django, the hub is reachable natively: the ``{% load wsgihub %}``
template library (``{% hub_url "new:user" uid=5 %}``) and, for views,
:func:`hub_url`.  Importing this package does not import Django; the
adapter class is loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .hubs import hub_for, hub_url

if TYPE_CHECKING:
    from .adapter import DjangoAdapter

__version__ = "0.1.0"

__all__ = ["DjangoAdapter", "__version__", "hub_for", "hub_url"]


def __getattr__(name: str) -> Any:
    # Lazy so that loading the plugin in a process without Django costs nothing.
    if name == "DjangoAdapter":
        from .adapter import DjangoAdapter

        return DjangoAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
