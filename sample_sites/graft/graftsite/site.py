"""The sample site built in Python: the same hub as ``site.ini``.

::

    from graftsite.site import make_hub
    application = make_hub()        # any WSGI server

    wsgihub serve graftsite.site:make_hub --port 8080
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import wsgihub

__all__ = ["TRUSTED_HOSTS", "make_hub"]

#: The hosts absolute URLs may use: the same as Django's ``ALLOWED_HOSTS``.
TRUSTED_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")


def make_hub(
    trusted_hosts: Iterable[str] = TRUSTED_HOSTS, public_url: str | None = None
) -> wsgihub.Hub:
    """Mount the legacy Django project at ``/``, the Pyramid API at ``/api`` and a FastAPI service
    at ``/v2``; graft Flask over the legacy mount."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "graftsite.legacy.settings")
    from django.core.wsgi import get_wsgi_application
    from wsgihub_django.static import serve_static

    from .api import make_api
    from .fastapi_part import make_fastapi
    from .new import create_app

    hub = wsgihub.Hub(trusted_hosts=trusted_hosts, public_url=public_url)
    # static files served whatever DEBUG says (site.ini: static = insecure)
    hub.mount("/", serve_static(get_wsgi_application(), "insecure"), name="legacy")
    hub.mount("/api", make_api(), name="api")
    hub.mount("/v2", make_fastapi(), name="v2")
    hub.graft(create_app(), over="legacy", name="new")
    return hub
