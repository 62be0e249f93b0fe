"""PasteDeploy app factory for Werkzeug apps: ``use = egg:wsgihub-werkzeug#app``.

::

    [app:shop]
    use = egg:wsgihub-werkzeug#app
    # the WSGI application (or an app factory, called)
    app = shop.web:application

    [app:wiki]
    use = egg:wsgihub-werkzeug#app
    # called with the other keys
    factory = wiki.web:create_app
    # create_app(db_url="sqlite:///wiki.db")
    db_url = sqlite:///wiki.db

Exactly one of ``app`` and ``factory``.  ``app`` follows wsgihub's one rule
for app factories (:func:`wsgihub.deploy.app_from`): a callable that takes
no arguments is called, an ``(environ, start_response)`` callable is the
application.  Values reach a factory as the strings PasteDeploy read.
Errors name the site file, the section and the key
(``site.ini: [app:wiki] factory: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wsgihub.deploy import FactoryError, import_setting, paste_app_factory

if TYPE_CHECKING:
    from wsgihub.types import WSGIApplication

__all__ = ["app_factory"]


@paste_app_factory
def app_factory(global_config: Mapping[str, Any], **settings: str) -> WSGIApplication:
    """The WSGI application named by ``app``, or returned by ``factory(**rest)``."""
    app_spec = settings.pop("app", None)
    factory_spec = settings.pop("factory", None)
    if (app_spec is None) == (factory_spec is None):
        raise FactoryError("set exactly one of 'app' (an application) and 'factory' (a callable)")
    if app_spec is not None:
        if settings:
            raise FactoryError(
                "unknown setting; with 'app' only 'app' is read (use 'factory' to pass settings)",
                key=", ".join(sorted(settings)),
            )
        return import_setting("app", app_spec, app=True)  # type: ignore[no-any-return]
    assert factory_spec is not None
    factory = import_setting("factory", factory_spec)
    if not callable(factory):
        raise FactoryError(f"{factory_spec!r} is not callable", key="factory")
    try:
        app = factory(**settings)
    except Exception as exc:
        raise FactoryError(f"{factory_spec!r} raised {type(exc).__name__}: {exc}", key="factory") from exc
    if not callable(app):
        raise FactoryError(f"{factory_spec!r} returned {app!r}, not a WSGI application", key="factory")
    return app  # type: ignore[no-any-return]
