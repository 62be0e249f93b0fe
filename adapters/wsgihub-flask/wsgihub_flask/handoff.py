"""A grafted Flask app takes the hub's match instead of matching the path a second time.

A graft's dispatch asks the app's router whether it takes a path
(:meth:`FlaskAdapter.match <wsgihub_flask.adapter.FlaskAdapter.match>`);
when that answer is Werkzeug's own match, known exactly (a
:class:`~wsgihub_werkzeug.fastmatch.Handed`: the path's first segment is one
that only one rule of the app can take), the dispatch puts it in the
environ (:data:`wsgihub.grafts.MATCH_KEY`) and Flask's request context
takes it instead of calling ``MapAdapter.match`` again: the rule and a
fresh dict of its values, as Werkzeug would return them.  Flask's matching
through ``RequestContext.match_request`` is, in Flask's words, "overridden
by a subclass to hook into the matching of the request": the graft's app
gets such a subclass through its ``request_context`` (set on the app object
while it is grafted, removed when it is unmounted).

The answer is taken only when the ``MapAdapter`` Flask bound for the
request would match exactly what the hub matched (:meth:`Handed.fits
<wsgihub_werkzeug.fastmatch.Handed.fits>`: the same map, unchanged; the
same ``PATH_INFO``, method and domain part; not a websocket): a middleware
that rewrote the path, a subdomain-matching app, a map changed since, a
request without the hub's answer all match as Flask does.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.ctx import RequestContext

from wsgihub.grafts import MATCH_KEY

__all__ = ["HandedContext", "hand_off", "take_back"]


class HandedContext(RequestContext):
    """Flask's request context, taking the graft's exact match when there is one for this request."""

    def match_request(self) -> None:
        """The hub's match when it fits the bound adapter, else Flask's own matching."""
        handed = self.request.environ.get(MATCH_KEY)
        if handed is not None and handed.fits(self.url_adapter):
            self.request.url_rule, self.request.view_args = handed.rule, dict(handed.values)
            return
        super().match_request()


def _contexts(app: Flask) -> Any:
    def request_context(environ: dict[str, Any]) -> RequestContext:
        return HandedContext(app, environ)

    request_context.__doc__ = Flask.request_context.__doc__
    return request_context


def hand_off(app: Flask) -> bool:
    """Make ``app`` take a graft's exact match (``False``: it already builds its contexts another way)."""
    if "request_context" in vars(app) or type(app).request_context is not Flask.request_context:
        return False  # the app (or its class) makes its own request contexts: leave them alone
    app.request_context = _contexts(app)  # type: ignore[method-assign]
    return True


def take_back(app: Flask) -> None:
    """Undo :func:`hand_off`."""
    vars(app).pop("request_context", None)
