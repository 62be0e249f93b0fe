"""PasteDeploy app factory for Starlette and FastAPI apps: ``use = egg:wsgihub-starlette#app``.

::

    [composite:main]
    use = egg:wsgihub#hub
    / = legacy
    /api = api

    [app:api]
    use = egg:wsgihub-starlette#app
    # a Starlette/FastAPI app, or a factory returning one
    app = newapi.main:app
    # optional: seconds to wait for background tasks
    wait_time = 5

Settings: ``app`` (required: ``"package.module:attr"`` naming the ASGI app
or an app factory returning one, called without arguments) and
``wait_time`` (how long a request's thread waits, after the response, for
the app's task -- background tasks -- before cancelling it; default: until
it ends).  Any other key is an error naming it: errors read
``site.ini: [app:api] KEY: message``.  The hub serves the app through its
bridge (:mod:`wsgihub_starlette.bridge`); the bus runs its lifespan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wsgihub.deploy import FactoryError, import_setting, paste_app_factory

from .bridge import Bridge, bridge_for
from .plugin import find_app

__all__ = ["app_factory"]

KNOWN = ("app", "wait_time")


@paste_app_factory
def app_factory(global_config: Mapping[str, Any], **settings: str) -> Any:
    """The Starlette or FastAPI app named by ``app`` (through a bridge with ``wait_time``)."""
    unknown = sorted(k for k in settings if k not in KNOWN)
    if unknown:
        raise FactoryError(f"unknown setting; expected {', '.join(KNOWN)}", key=", ".join(unknown))
    spec = settings.get("app")
    if not spec:
        raise FactoryError("required (e.g. app = newapi.main:app)", key="app")
    app = import_setting("app", spec, app=True)
    if find_app([app, *_inner(app)]) is None:
        raise FactoryError(f"{spec!r} is not a Starlette or FastAPI app nor returns one (got {type(app).__name__})", key="app")
    raw = settings.get("wait_time")
    if raw is None or not raw.strip():
        return bridge_for(app)
    try:
        wait_time = float(raw)
    except ValueError:
        raise FactoryError(f"expected a number of seconds, not {raw!r}", key="wait_time") from None
    if wait_time < 0:
        raise FactoryError(f"expected a number of seconds, not {raw!r}", key="wait_time")
    return Bridge(app, wait_time=wait_time)


def _inner(app: Any) -> list[Any]:
    """The ASGI apps ``app`` wraps (``.app`` of ASGI middleware)."""
    found = []
    for _ in range(32):
        app = getattr(app, "app", None)
        if app is None:
            break
        found.append(app)
    return found
