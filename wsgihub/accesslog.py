"""The access log: one line per request, the same under waitress and gunicorn.

::

    from wsgihub.accesslog import AccessLog

    app = AccessLog(hub)                       # text lines to the "wsgihub.access" logger
    app = AccessLog(hub, log_format="json")    # one JSON object per line

``wsgihub serve --access-log FILE`` (``-`` for stdout) and ``--log-format
text|json`` put this middleware in the front of the serving stack
(:func:`wsgihub.servers.front.front`) and send the ``wsgihub.access`` logger
to that file.  A logging configuration (the site file's ``[loggers]``
sections, ``--log-config``) that gives ``wsgihub.access`` a handler turns the
access log on as well.

A text line (columns separated by one space; ``-`` where a value is unknown)::

    2026-11-30T19:40:01.123Z 127.0.0.1 "GET /new/users/5" 200 1234 3.214ms new user 0f3a...

    time remote_addr "method path" status bytes duration mount endpoint request_id

A JSON line has exactly the keys ``time, method, path, status, bytes,
duration_ms, mount, endpoint, request_id, remote_addr`` (``null`` where a
value is unknown)::

    {"time": "2026-11-30T19:40:01.123Z", "method": "GET", "path": "/new/users/5",
     "status": 200, "bytes": 1234, "duration_ms": 3.214, "mount": "new",
     "endpoint": "user", "request_id": "0f3a...", "remote_addr": "127.0.0.1"}

- ``time`` is when the request came in (UTC); ``duration_ms`` runs until the
  server closed the response body.
- ``path`` is the path as the server received it, before the hub moved the
  mount prefix to ``SCRIPT_NAME``; the query string is left out (it may hold
  tokens).  In text lines, ``"`` ``\\`` and unprintable characters are escaped
  (``\\x0a``), so a request cannot forge a line.
- ``bytes`` counts the body bytes the server took from the app (for a
  ``wsgi.file_wrapper`` body: its ``Content-Length``).  The line is written
  when the server closes the body -- also when the client went away
  mid-response: then with the status and the bytes sent so far.
- ``mount`` is the name of the peg that served the request
  (``environ["pegboard.peg"]``), ``endpoint`` the framework's own route name,
  asked of the mount's adapter (:meth:`wsgihub.adapter.Adapter.endpoint`)
  only when a line is to be written: when the app calls ``start_response``
  (while the framework's request state is still up, so Flask's matched rule
  is read rather than matched again), or at the end if it never did.
- ``request_id`` is ``environ["wsgihub.request_id"]`` (see
  :mod:`wsgihub.requestid`); given ``request_id_header``, this middleware
  also does the request-ID work itself (one layer instead of two).

Each record also carries the values as attributes (``%(status)s``,
``%(mount)s`` ... in a format string of one's own); its message is the
line.  This module imports nothing but the standard library and the core.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from contextvars import Token
from random import getrandbits as _random_bits
from typing import TYPE_CHECKING, Any

from .requestid import _VALID, ENVIRON_KEY, _current, install_record_factory

if TYPE_CHECKING:
    from .types import Environ, StartResponse, WSGIApplication

__all__ = ["ACCESS_LOGGER", "FIELDS", "LOG_FORMATS", "AccessLog", "AccessLogHandler", "endpoint_of"]

#: The logger the lines go to.
ACCESS_LOGGER = "wsgihub.access"

#: The keys of a JSON line, in order.
FIELDS = (
    "time",
    "method",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "mount",
    "endpoint",
    "request_id",
    "remote_addr",
)

#: The values ``--log-format`` takes.
LOG_FORMATS = ("text", "json")

_perf = time.perf_counter
_wall = time.time


def endpoint_of(environ: Environ) -> tuple[str | None, str | None]:
    """``(mount, endpoint)`` of the request ``environ`` was, once it ran (``None``: unknown).

    The mount is ``environ["pegboard.peg"]``'s name; the endpoint comes from
    that peg's adapter.  When the mount has grafts and its own app does not
    know the endpoint, each graft's adapter is asked in turn (a graft the hub
    tried in a cascade leaves the peg beneath in the environ); the first
    that knows it names the mount.  An adapter that raises counts as "unknown".
    """
    peg = environ.get("pegboard.peg")
    if peg is None:
        return None, None
    name = getattr(peg, "name", None)
    endpoint = _ask(getattr(peg, "adapter", None), environ)
    if endpoint is None:
        for graft in getattr(peg, "grafts", ()):
            endpoint = _ask(graft.adapter, environ)
            if endpoint is not None:
                return graft.name, endpoint
    return name, endpoint


def _ask(adapter: Any, environ: Environ) -> str | None:
    if adapter is None:
        return None
    try:
        found = adapter.endpoint(environ)
    except Exception:  # noqa: BLE001 - an access log line never fails a request
        return None
    return found if isinstance(found, str) and found else None


class _Clock:
    """``2026-11-30T19:40:01.123Z`` for a ``time.time()``; the seconds part is cached."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def format(self, when: float) -> str:
        second = int(when)
        if second != self._second:
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._text}.{int((when - second) * 1000):03d}Z"


def _quote(text: str) -> str:
    """Text safe inside a quoted field of a text line: ``"``, ``\\``, unprintables escaped."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    out = []
    for char in text:
        if char == '"' or char == "\\":
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def _word(value: str | None) -> str:
    """A value for an unquoted column of a text line (``-`` when unknown or empty)."""
    if not value:
        return "-"
    if value.isprintable() and " " not in value and '"' not in value:
        return value
    return _quote(value).replace(" ", "\\x20")


class AccessLog:
    """WSGI middleware writing one access-log record per request (see the module docstring).

    ``log_format`` is ``"text"`` or ``"json"``; ``logger`` defaults to the
    ``wsgihub.access`` logger.  ``request_id_header`` (a header name) makes
    this middleware keep or make the request's ID as
    :class:`wsgihub.requestid.RequestID` does; ``None`` leaves IDs to another
    layer (the line then shows ``environ["wsgihub.request_id"]`` if any).
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        log_format: str = "text",
        logger: logging.Logger | None = None,
        request_id_header: str | None = None,
    ) -> None:
        if log_format not in LOG_FORMATS:
            raise ValueError(f"log_format {log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
        self.app = app
        self.log_format = log_format
        self.logger = logger if logger is not None else logging.getLogger(ACCESS_LOGGER)
        self.request_id_header = request_id_header
        self._clock = _Clock()
        self._format = self._json if log_format == "json" else self._text
        if request_id_header is not None:
            self._rid_key: str | None = "HTTP_" + request_id_header.upper().replace("-", "_")
            self._rid_lower = request_id_header.lower()
            install_record_factory()
        else:
            self._rid_key = None
            self._rid_lower = ""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Call the app; the line is written when the server closes the body."""
        began = _wall()
        started = _perf()
        request = _Request(
            self,
            environ,
            began,
            started,
            environ.get("REQUEST_METHOD", "-"),
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
        )
        token: Token[str] | None = None
        rid_key = self._rid_key
        if rid_key is not None:
            incoming = environ.get(rid_key)
            if incoming is not None and _VALID.fullmatch(incoming) is not None:
                request_id: str = incoming
            else:
                request_id = f"{_random_bits(128):032x}"
            environ[ENVIRON_KEY] = request_id
            request.request_id = request_id
            token = _current.set(request_id)
        request.token = token
        try:
            body = self.app(environ, request.start_response(start_response))
        except BaseException:
            if request.status is None:
                request.status = "500"
            request.finish()
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None and type(body) is file_wrapper:
            # Leave the server's sendfile path alone: only hook close().
            request.file_body(body)
            return body
        return (_SizedBody if hasattr(body, "__len__") else _Body)(body, request)

    # -- writing lines ----------------------------------------------------------------
    def write(self, request: _Request) -> None:
        """Write ``request``'s record (called once, when its body is closed)."""
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        environ = request.environ
        mount, endpoint = request.mount, request.endpoint
        if mount is None:  # start_response was never called
            mount, endpoint = endpoint_of(environ)
        status = request.status
        sent = request.sent
        if sent is None:  # a file_wrapper body: what it announced
            sent = _content_length(request.headers)
        values: dict[str, Any] = {
            "time": self._clock.format(request.began),
            "method": request.method,
            "path": request.path,
            "status": int(status[:3]) if status and status[:3].isdigit() else None,
            "bytes": sent,
            "duration_ms": round((_perf() - request.started) * 1000.0, 3),
            "mount": mount,
            "endpoint": endpoint,
            "request_id": request.request_id or environ.get(ENVIRON_KEY),
            "remote_addr": environ.get("REMOTE_ADDR") or None,
        }
        line = self._format(values)
        handlers = logger.handlers
        if (
            len(handlers) == 1
            and type(handlers[0]) is AccessLogHandler
            and not logger.filters
            and not handlers[0].filters
        ):
            # Only our own handler, which writes the bare line: skip building a
            # LogRecord (a third of the access log's cost per request).
            handlers[0].write_line(line)
            return
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, line, (), None)
        record.__dict__.update(values)
        logger.handle(record)

    @staticmethod
    def _json(values: dict[str, Any]) -> str:
        return json.dumps(values, ensure_ascii=False)

    @staticmethod
    def _text(values: dict[str, Any]) -> str:
        status = values["status"]
        size = values["bytes"]
        return (
            f"{values['time']} {_word(values['remote_addr'])} "
            f'"{_quote(values["method"])} {_quote(values["path"])}" '
            f"{'-' if status is None else status} {'-' if size is None else size} "
            f"{values['duration_ms']:.3f}ms {_word(values['mount'])} "
            f"{_word(values['endpoint'])} {_word(values['request_id'])}"
        )


class AccessLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``--access-log`` installs: the bare line to a stream, flushed.

    While it is the ``wsgihub.access`` logger's only handler (and no filter
    is set), :class:`AccessLog` hands it the line directly, without a
    :class:`logging.LogRecord`; anything else configured on that logger
    gets records as usual.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter("%(message)s"))

    def write_line(self, line: str) -> None:
        """Write ``line`` and a newline, flushed, under the handler's lock."""
        with self.lock:  # type: ignore[union-attr]
            try:
                stream = self.stream
                stream.write(line + "\n")
                stream.flush()
            except Exception:  # noqa: BLE001 - as logging does: report, never fail a request
                self.handleError(logging.makeLogRecord({"msg": line}))


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value) if value.strip().isdigit() else None
    return None


class _Request:
    """What one request's line needs; filled while it runs."""

    __slots__ = (
        "began",
        "done",
        "endpoint",
        "environ",
        "headers",
        "log",
        "method",
        "mount",
        "path",
        "request_id",
        "sent",
        "started",
        "status",
        "token",
    )

    def __init__(
        self, log: AccessLog, environ: Environ, began: float, started: float, method: str, path: str
    ) -> None:
        self.log = log
        self.environ = environ
        self.began = began
        self.started = started
        self.method = method
        self.path = path
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent: int | None = 0
        self.request_id: str | None = None
        self.token: Token[str] | None = None
        self.done = False
        #: ``(mount, endpoint)`` once asked (from start_response), else unknown.
        self.mount: str | None = None
        self.endpoint: str | None = None

    def start_response(self, start_response: StartResponse) -> StartResponse:
        """The ``start_response`` the app gets: records the status, adds the ID header."""
        log = self.log

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.status = status
            self.headers = headers
            if log.logger.isEnabledFor(logging.INFO):
                # Asked now, while the framework's request state is still up
                # (Flask's request object): cheaper than matching again later.
                self.mount, self.endpoint = endpoint_of(self.environ)
            request_id = self.request_id
            if request_id is not None:
                lower = log._rid_lower
                for name, _value in headers:
                    if name.lower() == lower:
                        break
                else:
                    headers = [*headers, (log.request_id_header or "", request_id)]
            write = start_response(status, headers, exc_info)

            def counting_write(data: bytes) -> Any:
                result = write(data)
                if self.sent is not None:
                    self.sent += len(data)
                return result

            return counting_write

        return start

    def file_body(self, body: Any) -> None:
        """A ``wsgi.file_wrapper`` body: ``bytes`` from Content-Length; log on its close()."""
        self.sent = None
        original = getattr(body, "close", None)

        def close() -> None:
            try:
                if original is not None:
                    original()
            finally:
                self.finish()

        body.close = close

    def finish(self) -> None:
        """Write the line (once) and end the request's ID context."""
        if self.done:
            return
        self.done = True
        try:
            self.log.write(self)
        finally:
            token = self.token
            if token is not None:
                try:
                    _current.reset(token)
                except (ValueError, RuntimeError):  # closed in another context
                    _current.set("-")


class _Body:
    """The app's body, counting the bytes the server takes; closing it writes the line."""

    __slots__ = ("_body", "_request")

    def __init__(self, body: Iterable[bytes], request: _Request) -> None:
        self._body = body
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        request = self._request
        for chunk in self._body:
            yield chunk
            # counted once the server came back for more: it took the chunk
            request.sent += len(chunk)  # type: ignore[operator]

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._request.finish()


class _SizedBody(_Body):
    """A body with a length (a list): waitress sets Content-Length for one chunk."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self._body)  # type: ignore[arg-type]
