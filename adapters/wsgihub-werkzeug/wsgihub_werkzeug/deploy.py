"""PasteDeploy app factory for Werkzeug apps: ``use = egg:wsgihub-werkzeug#app``.

::

    [app:shop]
    use = egg:wsgihub-werkzeug#app
    app = shop.web:application          # the WSGI application object

    [app:wiki]
    use = egg:wsgihub-werkzeug#app
    factory = wiki.web:create_app       # called with the other keys
    db_url = sqlite:///wiki.db          #   create_app(db_url="sqlite:///wiki.db")

Exactly one of ``app`` and ``factory``.  Values reach a factory as the
strings PasteDeploy read.  Errors are :class:`wsgihub.errors.DeployError`
naming the site file and the key at fault.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wsgihub.errors import DeployError

if TYPE_CHECKING:
    from wsgihub.types import WSGIApplication

__all__ = ["app_factory", "resolve"]


def where(global_config: Mapping[str, Any], dist: str) -> str:
    """``"wsgihub-werkzeug app (site.ini)"``: how errors name the section's origin."""
    source = global_config.get("__file__")
    return f"{dist} app ({source})" if source else f"{dist} app"


def resolve(spec: str, key: str, origin: str) -> Any:
    """Import ``"package.module:attr"`` (or a dotted path); errors name ``key``."""
    try:
        return pkgutil.resolve_name(spec.strip())
    except (ImportError, AttributeError, ValueError) as exc:
        raise DeployError(f"{origin}: {key} = {spec!r} cannot be imported: {type(exc).__name__}: {exc}") from exc


def app_factory(global_config: Mapping[str, Any], **settings: str) -> WSGIApplication:
    """The WSGI application named by ``app``, or returned by ``factory(**rest)``."""
    origin = where(global_config, "wsgihub-werkzeug")
    app_spec = settings.pop("app", None)
    factory_spec = settings.pop("factory", None)
    if (app_spec is None) == (factory_spec is None):
        raise DeployError(f"{origin}: set exactly one of 'app' (an application) and 'factory' (a callable)")
    if app_spec is not None:
        if settings:
            raise DeployError(
                f"{origin}: unknown setting(s) {', '.join(sorted(settings))}; "
                "with 'app' only 'app' is read (use 'factory' to pass settings)"
            )
        app = resolve(app_spec, "app", origin)
    else:
        factory = resolve(factory_spec, "factory", origin)  # type: ignore[arg-type]
        if not callable(factory):
            raise DeployError(f"{origin}: factory = {factory_spec!r} is not callable")
        app = factory(**settings)
    if not callable(app):
        raise DeployError(f"{origin}: {app!r} is not a WSGI application (not callable)")
    return app  # type: ignore[no-any-return]
