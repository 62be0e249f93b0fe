"""The PasteDeploy app factory: a Django project from a site file.

::

    [app:legacy]
    use = egg:wsgihub-django#app
    settings = legacy.settings

    # static = auto | insecure | whitenoise | off   (default: auto)

``settings`` is the project's settings module (default: the
``DJANGO_SETTINGS_MODULE`` environment variable); the project must be
importable (the loader puts the current directory on ``sys.path``).  The
factory sets ``DJANGO_SETTINGS_MODULE``, runs ``django.setup()`` through
``get_wsgi_application()`` and returns Django's ``WSGIHandler`` -- the same
one for every section naming the same settings, so one project mounted at
several prefixes is one app.  Django has one settings module per process:
asking for a second one raises :class:`~wsgihub.MountError` naming both.
``static`` says who serves the project's static files below the mount
(see :mod:`wsgihub_django.static`): ``auto`` as ``runserver`` does while
``DEBUG`` is on, ``insecure`` always from the finders, ``whitenoise`` from
``STATIC_ROOT`` (after ``collectstatic``), ``off`` a front-end server.
A section with ``static`` gets its own wrapper around the shared handler.
Errors name the site file, the section and the key
(``site.ini: [app:legacy] settings: 'x' cannot be imported: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from wsgihub.deploy import FactoryError, paste_app_factory
from wsgihub.errors import ConfigError

from . import registry
from .project import ENV, claim_settings

if TYPE_CHECKING:
    from wsgihub.types import WSGIApplication

#: The ``static`` values (wsgihub_django.static.MODES, without importing Django here).
MODES = ("auto", "insecure", "whitenoise", "off")

__all__ = ["app_factory"]

#: One handler per settings module: a project mounted at several prefixes is one app.
_handlers: dict[str, WSGIApplication] = {}


@paste_app_factory
def app_factory(
    global_conf: Mapping[str, str], settings: str | None = None, static: str | None = None, **options: str
) -> WSGIApplication:
    """Django's ``WSGIHandler`` for the settings module ``settings``, static files served per ``static``.

    Errors read ``site.ini: [app:legacy] settings: ...`` (see
    :func:`wsgihub.deploy.paste_app_factory`).
    """
    if options:
        raise FactoryError(
            "unknown setting; the settings are 'settings = your_project.settings' and "
            "'static = auto|insecure|whitenoise|off'",
            key=", ".join(sorted(options)),
        )
    module = (settings or os.environ.get(ENV) or "").strip()
    if not module:
        raise FactoryError(f"required: your_project.settings (or set {ENV})", key="settings")
    if static is not None and static.strip().lower() not in MODES:
        raise FactoryError(f"{static!r} is not one of {', '.join(MODES)}", key="static")
    claim_settings(module)
    handler = _handlers.get(module) or _handler(module)
    if static is None:
        return handler
    from .static import StaticFiles  # imports Django: only once it is set up

    try:
        return StaticFiles(handler, static)
    except ConfigError as exc:
        raise FactoryError(str(exc), key="static") from exc


def _handler(module: str) -> WSGIApplication:
    """Set Django up for ``module`` and keep its handler."""
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
