"""Tracing with OpenTelemetry: one server span per request, named ``mount:endpoint``.

::

    pip install --find-links dist/wheels 'wsgihub[otel]'   # bash scripts/build-wheels.sh
    wsgihub serve site.ini --otel

    from wsgihub.tracing import traced
    app = traced(hub)                 # what --otel puts in the front of the serving stack

The span comes from OpenTelemetry's own WSGI instrumentation
(``opentelemetry.instrumentation.wsgi.OpenTelemetryMiddleware``): it reads the
incoming trace context (``traceparent``), records the HTTP attributes and
metrics, and ends the span when the server closes the body.  wsgihub adds a
response hook that renames the span, once the app has routed the request,
to the route's name -- ``mount:endpoint`` (``new:user``), or the mount's
name alone when its framework cannot tell the endpoint -- and sets
``wsgihub.mount``, ``wsgihub.endpoint`` and ``wsgihub.request_id`` on it.
A request no mount served keeps OpenTelemetry's own name (``GET /path``).

Where spans go is OpenTelemetry's business: configure a tracer provider in
your code, or run ``opentelemetry-instrument wsgihub serve ... --otel`` with
``OTEL_*`` environment variables (``opentelemetry-distro``).  Without a
provider the spans cost little and go nowhere.

OpenTelemetry is imported when :func:`traced` is called, never by ``import
wsgihub``: it is an optional extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from .accesslog import endpoint_of
from .errors import ConfigError
from .requestid import ENVIRON_KEY

if TYPE_CHECKING:
    from .types import Environ, WSGIApplication

__all__ = ["span_name", "traced"]

#: The one-line error when the extra is not installed.
MISSING = (
    "--otel needs OpenTelemetry's WSGI instrumentation: "
    "pip install opentelemetry-sdk opentelemetry-instrumentation-wsgi "
    "(what the wsgihub[otel] extra installs)"
)


def span_name(environ: Environ) -> str | None:
    """``mount:endpoint`` of the request ``environ`` was (``mount`` alone; ``None``: no mount)."""
    mount, endpoint = endpoint_of(environ)
    if mount is None:
        return None
    return f"{mount}:{endpoint}" if endpoint is not None else mount


def _response_hook(span: Any, environ: Environ, status: str, headers: Any) -> None:
    """Name the span after the route that served the request (OpenTelemetry's response hook)."""
    mount, endpoint = endpoint_of(environ)
    if mount is not None:
        span.update_name(f"{mount}:{endpoint}" if endpoint is not None else mount)
        if span.is_recording():
            span.set_attribute("wsgihub.mount", mount)
            if endpoint is not None:
                span.set_attribute("wsgihub.endpoint", endpoint)
    request_id = environ.get(ENVIRON_KEY)
    if request_id is not None and span.is_recording():
        span.set_attribute("wsgihub.request_id", request_id)


def traced(app: WSGIApplication, tracer_provider: Any = None) -> WSGIApplication:
    """``app`` inside OpenTelemetry's WSGI middleware, spans named ``mount:endpoint``.

    ``tracer_provider`` defaults to OpenTelemetry's global one.  Raises
    :class:`~wsgihub.errors.ConfigError` (one line saying what to install)
    when the ``otel`` extra is missing.
    """
    try:
        # Optional dependency (the 'otel' extra): imported only when asked for.
        from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    except ImportError:
        raise ConfigError(MISSING) from None
    middleware: Any = OpenTelemetryMiddleware(
        cast(Any, app), response_hook=_response_hook, tracer_provider=tracer_provider
    )
    return cast("WSGIApplication", middleware)
