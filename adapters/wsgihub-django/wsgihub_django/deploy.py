"""The PasteDeploy app factory: a Django project from a site file.

::

    [app:legacy]
    use = egg:wsgihub-django#app
    settings = legacy.settings

``settings`` is the project's settings module (default: the
``DJANGO_SETTINGS_MODULE`` environment variable); the project must be
importable (the loader puts the current directory on ``sys.path``).  The
factory sets ``DJANGO_SETTINGS_MODULE``, runs ``django.setup()`` through
``get_wsgi_application()`` and returns Django's ``WSGIHandler`` -- the same
one for every section naming the same settings, so one project mounted at
several prefixes is one app.  Django has one settings module per process:
asking for a second one raises :class:`~wsgihub.MountError` naming both.
Errors name the site file, the section and the key
(``site.ini: [app:legacy] settings: 'x' cannot be imported: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from wsgihub.deploy import FactoryError, paste_app_factory

from . import registry
from .project import ENV, claim_settings

if TYPE_CHECKING:
    from wsgihub.types import WSGIApplication

__all__ = ["app_factory"]

#: One handler per settings module: a project mounted at several prefixes is one app.
_handlers: dict[str, WSGIApplication] = {}


@paste_app_factory
def app_factory(
    global_conf: Mapping[str, str], settings: str | None = None, **options: str
) -> WSGIApplication:
    """Django's ``WSGIHandler`` for the settings module ``settings``.

    Errors read ``site.ini: [app:legacy] settings: ...`` (see
    :func:`wsgihub.deploy.paste_app_factory`).
    """
    if options:
        raise FactoryError(
            "unknown setting; the only one is 'settings = your_project.settings'",
            key=", ".join(sorted(options)),
        )
    module = (settings or os.environ.get(ENV) or "").strip()
    if not module:
        raise FactoryError(f"required: your_project.settings (or set {ENV})", key="settings")
    claim_settings(module)
    known = _handlers.get(module)
    if known is not None:
        return known
    previous = os.environ.get(ENV)
    os.environ[ENV] = module
    try:
        from django.core.wsgi import get_wsgi_application

        handler: WSGIApplication = get_wsgi_application()
    except ImportError as exc:
        _restore(previous)
        raise FactoryError(f"{module!r} cannot be imported: {type(exc).__name__}: {exc}", key="settings") from exc
    except Exception as exc:  # the settings module or an installed app raised while Django set up
        _restore(previous)
        raise FactoryError(f"{module!r}: Django setup failed: {type(exc).__name__}: {exc}", key="settings") from exc
    except BaseException:
        _restore(previous)
        raise
    registry.tag_handler(handler, module)
    _handlers[module] = handler
    return handler


def _restore(previous: str | None) -> None:
    if previous is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = previous
