"""PasteDeploy app factory for Flask apps: ``use = egg:wsgihub-flask#app``.

::

    [app:new]
    use = egg:wsgihub-flask#app
    app = newsite:create_app                 # a Flask app, or a factory returning one
    config_object = newsite.settings.Production
    config_file = /etc/newsite/flask.cfg
    # UPPERCASE keys go to app.config
    SECRET_KEY = "change me"
    SESSION_COOKIE_NAME = newsite_session
    # JSON values are decoded, others stay strings
    PERMANENT_SESSION_LIFETIME = 3600

Settings: ``app`` (required: ``"package.module:attr"`` naming a
``flask.Flask`` or an app factory returning one, called without arguments),
``config_object`` (``app.config.from_object``), ``config_file``
(``app.config.from_pyfile``, relative to the site file), then every
UPPERCASE key into ``app.config`` (decoded as JSON when it parses, as
``flask run`` does with ``FLASK_*`` variables).  Any other key is an error
naming it: errors read ``site.ini: [app:new] KEY: message``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from wsgihub.deploy import FactoryError, import_setting, paste_app_factory

__all__ = ["app_factory"]

KNOWN = ("app", "config_object", "config_file")


@paste_app_factory
def app_factory(global_config: Mapping[str, Any], **settings: str) -> Flask:
    """The Flask app named by ``app``, configured from the other settings."""
    unknown = sorted(k for k in settings if k not in KNOWN and not k.isupper())
    if unknown:
        raise FactoryError(
            f"unknown setting; expected {', '.join(KNOWN)} or UPPERCASE Flask config keys",
            key=", ".join(unknown),
        )
    spec = settings.get("app")
    if not spec:
        raise FactoryError("required (e.g. app = mysite:create_app)", key="app")
    app = import_setting("app", spec, app=True)
    if not isinstance(app, Flask):
        raise FactoryError(
            f"{spec!r} is not a Flask app nor returns one (got {type(app).__name__})", key="app"
        )
    if settings.get("config_object"):
        app.config.from_object(import_setting("config_object", settings["config_object"]))
    if settings.get("config_file"):
        path = os.path.join(str(global_config.get("here", "")), settings["config_file"])
        try:
            app.config.from_pyfile(path)
        except OSError as exc:
            raise FactoryError(f"{settings['config_file']!r}: {exc.strerror}", key="config_file") from exc
    for key, raw in settings.items():
        if key.isupper():
            app.config[key] = _decode(raw)
    return app


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
