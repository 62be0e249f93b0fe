"""The wsgihub plugin for Flask (entry point ``flask``).

``wsgihub_adapter`` gives a :class:`~wsgihub_flask.adapter.FlaskAdapter` to
any mounted app with a ``flask.Flask`` among its layers (behind
middleware, a bound ``app.wsgi_app``, ``functools.partial``...).  It runs
before the Werkzeug plugin's generic ``url_map`` detector (which is
``trylast``), so Flask apps get the Flask adapter.

Nothing here imports Flask: :func:`wsgihub.adapter.detect` looks the
class up in :data:`sys.modules` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from wsgihub import hookimpl
from wsgihub.adapter import detect

if TYPE_CHECKING:
    from flask import Flask

    from wsgihub.adapter import Adapter
    from wsgihub.types import WSGIApplication

    from .adapter import FlaskAdapter

__all__ = ["FRAMEWORK", "wsgihub_adapter"]

FRAMEWORK = "flask"


@hookimpl
def wsgihub_adapter(app: WSGIApplication, layers: Sequence[object], framework: str | None) -> Adapter | None:
    """A :class:`FlaskAdapter` for the first ``flask.Flask`` among ``layers``.

    With ``framework="flask"`` and no Flask app to be found, ``None``: a
    Flask adapter cannot work from a bare WSGI callable.
    """
    return detect(layers, framework, name=FRAMEWORK, module="flask", classname="Flask", factory=_adapter)


def _adapter(app: Flask, wsgi: WSGIApplication) -> FlaskAdapter:
    from .adapter import FlaskAdapter  # imports Flask: only once a Flask app exists

    return FlaskAdapter(app, wsgi)
