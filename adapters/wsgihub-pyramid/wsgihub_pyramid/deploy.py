"""PasteDeploy app factory: a Pyramid application for a wsgihub site file.

In a site INI (``use = egg:wsgihub-pyramid#app``)::

    [composite:main]
    use = egg:wsgihub#hub
    / = legacy
    /api = api

    [app:api]
    use = egg:wsgihub-pyramid#app
    app = myapi:main
    pyramid.reload_templates = false
    sqlalchemy.url = sqlite:///api.db

``app`` names the application's Pyramid *main* — the paste convention
``main(global_config, **settings)`` returning ``config.make_wsgi_app()`` —
as ``package.module:callable`` or ``package.module`` (its ``main``).  Every
other key is passed to it as a setting, exactly as ``pserve`` would.  An
``app`` that names a ready :class:`pyramid.router.Router` is used as is
(then no other key is allowed).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from wsgihub.errors import DeployError

__all__ = ["app_factory"]


def app_factory(global_conf: dict[str, Any], app: str | None = None, **settings: Any) -> Any:
    """Call the Pyramid application's ``main(global_conf, **settings)`` named by ``app``."""
    from pyramid.path import DottedNameResolver
    from pyramid.router import Router

    if not app:
        raise DeployError(
            "wsgihub-pyramid#app: key 'app' is required (the Pyramid main, 'package.module:main')"
        )
    try:
        target = DottedNameResolver().resolve(app)
    except (ImportError, ValueError, AttributeError) as exc:
        raise DeployError(f"wsgihub-pyramid#app: app = {app!r} cannot be imported: {exc}") from exc
    if isinstance(target, ModuleType):
        main = getattr(target, "main", None)
        if main is None:
            raise DeployError(
                f"wsgihub-pyramid#app: app = {app!r} is a module without a 'main' function"
            )
        target = main
    if isinstance(target, Router):
        if settings:
            raise DeployError(
                f"wsgihub-pyramid#app: app = {app!r} is a ready Router; "
                f"settings {sorted(settings)} would be ignored (name its main instead)"
            )
        return target
    if not callable(target):
        raise DeployError(f"wsgihub-pyramid#app: app = {app!r} is not callable")
    application = target(global_conf, **settings)
    if not callable(application):
        raise DeployError(
            f"wsgihub-pyramid#app: {app!r} returned {application!r}, not a WSGI application"
        )
    return application
