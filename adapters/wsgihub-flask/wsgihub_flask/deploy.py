"""PasteDeploy app factory for Flask apps: ``use = egg:wsgihub-flask#app``.

::

    [app:new]
    use = egg:wsgihub-flask#app
    app = newsite:create_app                 # a Flask app, or a factory returning one
    config_object = newsite.settings.Production
    config_file = /etc/newsite/flask.cfg
    SECRET_KEY = "change me"                 # UPPERCASE keys go to app.config
    SESSION_COOKIE_NAME = newsite_session
    PERMANENT_SESSION_LIFETIME = 3600        # JSON values are decoded, others stay strings

Settings: ``app`` (required: ``"package.module:attr"`` naming a
``flask.Flask`` or a callable returning one, called without arguments),
``config_object`` (``app.config.from_object``), ``config_file``
(``app.config.from_pyfile``, relative to the site file), then every
UPPERCASE key into ``app.config`` (decoded as JSON when it parses, as
``flask run`` does with ``FLASK_*`` variables).  Any other key is an error
naming it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from wsgihub_werkzeug.deploy import resolve, where

from wsgihub.errors import DeployError

__all__ = ["app_factory"]

KNOWN = ("app", "config_object", "config_file")


def app_factory(global_config: Mapping[str, Any], **settings: str) -> Flask:
    """The Flask app named by ``app``, configured from the other settings."""
    origin = where(global_config, "wsgihub-flask")
    unknown = sorted(k for k in settings if k not in KNOWN and not k.isupper())
    if unknown:
        raise DeployError(
            f"{origin}: unknown setting(s) {', '.join(unknown)}; expected "
            f"{', '.join(KNOWN)} or UPPERCASE Flask config keys"
        )
    spec = settings.get("app")
    if not spec:
        raise DeployError(f"{origin}: 'app' is required (e.g. app = mysite:create_app)")
    found = resolve(spec, "app", origin)
    app = found if isinstance(found, Flask) else found() if callable(found) else found
    if not isinstance(app, Flask):
        raise DeployError(f"{origin}: app = {spec!r} is not a Flask app nor returns one (got {type(app).__name__})")
    if settings.get("config_object"):
        app.config.from_object(resolve(settings["config_object"], "config_object", origin))
    if settings.get("config_file"):
        path = os.path.join(str(global_config.get("here", "")), settings["config_file"])
        try:
            app.config.from_pyfile(path)
        except OSError as exc:
            raise DeployError(f"{origin}: config_file = {settings['config_file']!r}: {exc.strerror}") from exc
    for key, raw in settings.items():
        if key.isupper():
            app.config[key] = _decode(raw)
    return app


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
