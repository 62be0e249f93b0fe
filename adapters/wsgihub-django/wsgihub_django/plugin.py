"""The ``django`` wsgihub plugin: recognise Django apps being mounted.

Registered through the ``wsgihub`` entry point group under the name
``django`` (block it with ``WSGIHUB_BLOCK_PLUGINS=django``).  Detection
looks for a ``django.core.handlers.wsgi.WSGIHandler`` among the layers the
hub found inside the mounted callable; it never imports Django to look.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from wsgihub import hookimpl
from wsgihub.adapter import detect

if TYPE_CHECKING:
    from wsgihub import Hub, PartylineOperator, Peg
    from wsgihub.types import WSGIApplication

    from .adapter import DjangoAdapter

__all__ = ["FRAMEWORK", "wsgihub_adapter", "wsgihub_invite"]

#: The name users force with ``hub.mount(..., framework="django")``.
FRAMEWORK = "django"


@hookimpl
def wsgihub_adapter(
    app: WSGIApplication, layers: Sequence[object], framework: str | None
) -> DjangoAdapter | None:
    """A :class:`~wsgihub_django.adapter.DjangoAdapter` for Django apps, else ``None``.

    With ``framework="django"`` and no ``WSGIHandler`` in sight (an opaque
    wrapper), the adapter still works from the mounted callable as long as
    Django is configured: Django's URL conf and settings are process-wide.
    """
    return detect(
        layers,
        framework,
        name=FRAMEWORK,
        module="django.core.handlers.wsgi",
        classname="WSGIHandler",
        factory=_adapter,
        forced=_adapter_if_configured,
    )


@hookimpl
def wsgihub_invite(hub: Hub, peg: Peg, operator: PartylineOperator) -> None:
    """A Django mount answers the partyline ``identity`` and ``logout`` services (docs/login.md)."""
    if peg.adapter is not None and peg.adapter.framework == FRAMEWORK:
        from .identity import connect  # imports Django: a Django app is mounted

        connect(hub, peg, operator)


def _adapter(handler: object, app: WSGIApplication) -> DjangoAdapter:
    from .adapter import DjangoAdapter  # imports Django: only once a Django app exists

    return DjangoAdapter(handler, app)


def _adapter_if_configured(app: WSGIApplication, layers: Sequence[object]) -> DjangoAdapter | None:
    return _adapter(app, app) if _django_configured() else None


def _django_configured() -> bool:
    conf = sys.modules.get("django.conf")
    settings = getattr(conf, "settings", None)
    return bool(settings is not None and settings.configured)
