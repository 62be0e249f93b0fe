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
(then no other key is allowed).  Errors name the site file, the section
and the key (``site.ini: [app:api] app: 'myapi:main' raised ...``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from wsgihub.deploy import FactoryError, import_setting, paste_app_factory

__all__ = ["app_factory"]


@paste_app_factory
def app_factory(global_conf: dict[str, Any], app: str | None = None, **settings: Any) -> Any:
    """Call the Pyramid application's ``main(global_conf, **settings)`` named by ``app``."""
    from pyramid.router import Router

    if not app:
        raise FactoryError("required: the Pyramid main, 'package.module:main'", key="app")
    target = import_setting("app", app)
    if isinstance(target, ModuleType):
        main = getattr(target, "main", None)
        if main is None:
            raise FactoryError(f"{app!r} is a module without a 'main' function", key="app")
        target = main
    if isinstance(target, Router):
        if settings:
            raise FactoryError(
                f"{app!r} is a ready Router; settings {', '.join(sorted(settings))} would be ignored "
                "(name its main instead)",
                key="app",
            )
        return target
    if not callable(target):
        raise FactoryError(f"{app!r} is not callable", key="app")
    try:
        application = target(global_conf, **settings)
    except Exception as exc:  # the project's main failed (bad setting, config conflict, ...)
        raise FactoryError(f"{app!r} raised {type(exc).__name__}: {exc}", key="app") from exc
    if not callable(application):
        raise FactoryError(f"{app!r} returned {application!r}, not a WSGI application", key="app")
    return application
