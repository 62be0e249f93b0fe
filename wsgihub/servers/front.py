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
4. answers to ``HEAD`` stripped of any body (:class:`HeadWithoutBody`; waitress
   sends what the app returns, gunicorn does not);
5. the hub itself, whose own dispatch (``Pegboard.__call__``) is left as it is.

A server that can do layer 2's work itself, without a WSGI layer (waitress:
its own task keeps or makes the ID, adds the header and hands the access
log its line), asks :func:`front_stack` for both stacks and serves the one
without layer 2 (:class:`FrontStack`); the lines and headers are the same.

A layer that is switched off is not in the chain at all: with the options'
defaults only the forwarded-header layer (which then removes every
forwarded header: no proxy is trusted) and the request-ID layer are there
(``--request-id-header ''`` takes the latter out too).  ``options`` is a :class:`wsgihub.serve.ServeOptions` (or anything
with the same attributes); an attribute it lacks counts as its default, so
code that builds the front for a hub of its own may pass ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..accesslog import AccessLog
from ..errors import ConfigError
from ..health import HealthCheck
from ..inspector import DEFAULT_ALLOW_IPS, Inspector, inspector_paths
from ..logconfig import access_log_configured
from ..proxy import DEFAULT_FORWARDED_ALLOW_IPS, ORIG_KEY, ProxyHeaders, is_forwarded_header
from ..requestid import DEFAULT_HEADER as DEFAULT_REQUEST_ID_HEADER
from ..requestid import RequestID
from ..tracing import traced

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..hub import Hub
    from ..types import Environ, StartResponse, WSGIApplication

__all__ = [
    "FrontStack",
    "HeadWithoutBody",
    "check_front_paths",
    "front",
    "front_paths",
    "front_stack",
    "hand_over_line",
    "proxied_path",
]


def _option(options: Any, name: str, default: Any = None) -> Any:
    """``options.name``, or ``default`` when options is ``None`` or lacks it."""
    return getattr(options, name, default) if options is not None else default


def front_paths(options: Any = None) -> list[str]:
    """The paths the front layers answer themselves: the health path and the inspector's.

    ``hub.asgi`` sends them to its WSGI side (where the front layers are)
    whatever mount is there.  The inspector's path is listed as given and as
    its page and data paths (``/_hub/``, ``/_hub``, ``/_hub.json``).
    """
    health = _option(options, "health_path")
    inspect = _option(options, "inspect")
    paths = [health] if health else []
    if inspect:
        paths += [inspect, *inspector_paths(inspect)]
    return paths


def check_front_paths(hub: Hub, options: Any = None) -> None:
    """Refuse a health or inspector path that would hide a mount's URLs, or each other.

    The front layers answer their paths before any app sees them, so a
    path at or below a mount's prefix (``--health-path /a`` with a mount at
    ``/a``), one the root mount (or a graft over it) has a route for, or the
    same path for both, would silently take URLs away.  Raises
    :class:`~wsgihub.errors.ConfigError` naming the option and the mount;
    ``wsgihub serve`` calls it where the site is loaded (under gunicorn in
    the load check, before any worker starts).
    """
    health = _option(options, "health_path")
    inspect = _option(options, "inspect")
    claimed: list[tuple[str, str]] = []
    if health:
        claimed.append((f"--health-path {health}", health))
    if inspect:
        page, data = inspector_paths(inspect)
        if health in (page, data):
            raise ConfigError(f"--inspect {inspect}: the same path as --health-path {health}; give each its own")
        claimed += [(f"--inspect {inspect}", page), (f"--inspect {inspect}", data)]
    pegs = hub.pegs()
    for label, path in claimed:
        for peg in pegs:
            if peg.over is None and peg.prefix and (path == peg.prefix or path.startswith(peg.prefix + "/")):
                raise ConfigError(
                    f"{label}: inside mount {peg.name!r} at {peg.prefix} (the app would never see "
                    "that path); pick a path outside every mount"
                )
        for peg in pegs:
            if peg.prefix or peg.adapter is None:
                continue
            try:
                taken = peg.adapter.match(path, "GET")
            except Exception:  # noqa: BLE001 - an adapter that cannot tell takes nothing here
                taken = None
            if taken:
                raise ConfigError(f"{label}: mount {peg.name!r} has a route there; pick another path")


class HeadWithoutBody:
    """Answers to ``HEAD`` carry no body, whatever the app returned (RFC 9110 §9.3.2).

    Django leaves stripping the body to the server, and waitress sends
    whatever the app returns: on a kept-alive connection the next response
    would start with that body.  gunicorn and Django's runserver drop it;
    this layer makes waitress do the same (headers, Content-Length
    included, stay as the app set them).  The app's body is closed without
    being read -- unless the app calls ``start_response`` only once its
    body is iterated (PEP 3333 allows it): then it is read until it does.
    Any other method costs one comparison.
    """

    __slots__ = ("app",)

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "HEAD":
            return self.app(environ, start_response)
        started: list[bool] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append(True)
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        try:
            chunks = iter(body)
            while not started and next(chunks, None) is not None:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return []


def front(hub: Hub, options: Any = None) -> WSGIApplication:
    """The hub wrapped in the serving stack's front middlewares (see the module docstring).

    Each layer is added innermost first, so the last one added meets the
    request first.
    """
    return front_stack(hub, options).app


@dataclass(frozen=True)
class FrontStack:
    """The serving stack, for a server that can do the request-ID and access-log work itself.

    ``app`` is every layer (what :func:`front` returns).  ``inner`` is the
    same stack without layer 2's request ID and access log (forwarded
    headers still outermost, health path, inspector, ``HEAD``, the hub), for
    a server that keeps or makes each request's ID, adds the response
    header and hands :attr:`access_log` the line itself, as the layers
    would (waitress: :mod:`wsgihub.servers.waitress_front`); ``None`` when
    there is nothing to take out, or when the work has to stay a layer:
    with ``--otel`` (its span sits between the forwarded headers and the
    layer), or with an ID header named like a forwarded header (the
    forwarded-header layer removes those before the layer reads them).
    """

    #: Every layer: what a server that does none of the work serves.
    app: WSGIApplication
    #: The layers but request ID and access log (``None``: serve :attr:`app`).
    inner: WSGIApplication | None
    #: The request-ID header read and set (``None``: request IDs are off).
    request_id_header: str | None
    #: The access log whose lines the server hands over (:meth:`AccessLog.finished`); ``None``: off.
    access_log: AccessLog | None


def front_stack(hub: Hub, options: Any = None) -> FrontStack:
    """The serving stack both ways (see :class:`FrontStack` and the module docstring).

    Each layer is added innermost first, so the last one added meets the
    request first.
    """
    app: WSGIApplication = HeadWithoutBody(hub)
    # 3. health path and inspector (innermost: they answer before any app is called)
    inspect_path = _option(options, "inspect")
    if inspect_path:
        allow = _option(options, "inspect_allow_ips", DEFAULT_ALLOW_IPS)
        app = Inspector(app, hub, inspect_path, allow)
    health_path = _option(options, "health_path")
    if health_path:
        app = HealthCheck(app, hub, health_path)
    inner = app

    # 2. request ID and access log (one layer when both are on)
    header = _option(options, "request_id_header", DEFAULT_REQUEST_ID_HEADER) or None
    access_log: AccessLog | None = None
    if _option(options, "access_log") or access_log_configured():
        log_format = _option(options, "log_format", "text")
        app = access_log = AccessLog(app, log_format=log_format, request_id_header=header)
    elif header is not None:
        app = RequestID(app, header)
    otel = _option(options, "otel", False)
    if otel:
        app = traced(app)

    # 1. forwarded headers (outermost, always there: with no proxy trusted it removes them all)
    allow_ips = _option(options, "forwarded_allow_ips", None) or DEFAULT_FORWARDED_ALLOW_IPS
    app = ProxyHeaders(app, allow_ips)

    layer = access_log is not None or header is not None
    in_server = layer and not otel and not (header is not None and is_forwarded_header(header))
    return FrontStack(
        app=app,
        inner=ProxyHeaders(inner, allow_ips) if in_server else None,
        request_id_header=header,
        access_log=access_log,
    )


def hand_over_line(
    log: AccessLog,
    started: float,
    path: str,
    status: str | None,
    sent: int | None,
    request_id: str | None,
    environ: Environ,
) -> None:
    """Hand ``log`` a request's line as the layer would, from a server doing the layer's work.

    :meth:`AccessLog.finished` with ``path`` read again when a trusted
    proxy's prefix went in front of ``SCRIPT_NAME`` (:func:`proxied_path`).
    """
    if ORIG_KEY in environ:
        path = proxied_path(environ, path)
    log.finished(started, path, status, sent, request_id, environ)


def proxied_path(environ: Environ, path: str) -> str:
    """The path the layer, behind the forwarded-header layer, would have logged.

    ``path`` was read before that layer ran; a trusted proxy's prefix went
    in front of ``SCRIPT_NAME`` since, and the hub keeps ``SCRIPT_NAME +
    PATH_INFO`` as it is when it moves a mount's prefix: read them again.
    """
    orig = environ.get(ORIG_KEY)
    if isinstance(orig, dict) and "SCRIPT_NAME" in orig:
        return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return path
