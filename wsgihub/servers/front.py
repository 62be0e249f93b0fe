"""The front of the serving stack: the middlewares ``wsgihub serve`` wraps the hub in.

::

    from wsgihub.servers.front import front

    app = front(hub, options)      # what waitress and every gunicorn worker serve

Both servers call this ONE function (waitress in ``wsgihub serve``'s own
process, gunicorn in each worker after loading the site), so a request meets
the same layers whichever server runs.  Outermost first:

1. forwarded-header handling (client address, scheme, host and prefix from the
   proxies in ``--forwarded-allow-ips``, :mod:`wsgihub.proxy`);
2. request ID and access log (:mod:`wsgihub.requestid`, :mod:`wsgihub.accesslog`),
   one layer when both are on, and OpenTelemetry tracing around them
   (``--otel``, :mod:`wsgihub.tracing`);
3. health path and inspector;
4. the hub itself, whose own dispatch (``Pegboard.__call__``) is left as it is.

A layer that is switched off is not in the chain at all: with the options'
defaults only the forwarded-header layer (which then removes every
forwarded header: no proxy is trusted) and the request-ID layer are there
(``--request-id-header ''`` takes the latter out too).  ``options`` is a :class:`wsgihub.serve.ServeOptions` (or anything
with the same attributes); an attribute it lacks counts as its default, so
code that builds the front for a hub of its own may pass ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..accesslog import AccessLog
from ..health import HealthCheck
from ..inspector import DEFAULT_ALLOW_IPS, Inspector
from ..logconfig import access_log_configured
from ..proxy import DEFAULT_FORWARDED_ALLOW_IPS, ProxyHeaders
from ..requestid import DEFAULT_HEADER as DEFAULT_REQUEST_ID_HEADER
from ..requestid import RequestID
from ..tracing import traced

if TYPE_CHECKING:
    from ..hub import Hub
    from ..types import WSGIApplication

__all__ = ["front"]


def _option(options: Any, name: str, default: Any = None) -> Any:
    """``options.name``, or ``default`` when options is ``None`` or lacks it."""
    return getattr(options, name, default) if options is not None else default


def front(hub: Hub, options: Any = None) -> WSGIApplication:
    """The hub wrapped in the serving stack's front middlewares (see the module docstring).

    Each layer is added innermost first, so the last one added meets the
    request first.
    """
    app: WSGIApplication = hub
    # 3. health path and inspector (innermost: they answer before any app is called)
    inspect_path = _option(options, "inspect")
    if inspect_path:
        allow = _option(options, "inspect_allow_ips", DEFAULT_ALLOW_IPS)
        app = Inspector(app, hub, inspect_path, allow)
    health_path = _option(options, "health_path")
    if health_path:
        app = HealthCheck(app, hub, health_path)

    # 2. request ID and access log (one layer when both are on)
    header = _option(options, "request_id_header", DEFAULT_REQUEST_ID_HEADER) or None
    if _option(options, "access_log") or access_log_configured():
        log_format = _option(options, "log_format", "text")
        app = AccessLog(app, log_format=log_format, request_id_header=header)
    elif header is not None:
        app = RequestID(app, header)
    if _option(options, "otel", False):
        app = traced(app)

    # 1. forwarded headers (outermost, always there: with no proxy trusted it removes them all)
    allow_ips = _option(options, "forwarded_allow_ips", None) or DEFAULT_FORWARDED_ALLOW_IPS
    app = ProxyHeaders(app, allow_ips)

    return app
