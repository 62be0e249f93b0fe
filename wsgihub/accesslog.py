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
line.  While ``--access-log``'s own :class:`AccessLogHandler` is the
logger's only handler, no record is built at all: to stdout the line is
written and flushed at once; to a file the request only queues its values
and the handler's thread writes the queued lines once a second, one
``write()`` per batch (what keeps the access log within a few percent of a
request's cost; ``docs/benchmarks.md``).  This module imports nothing but
the standard library and the core.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
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


#: Printable ASCII but ``"`` and ``\\`` (inside quotes), and also but space (a column).
_QUOTED_SAFE = re.compile(r'[ !#-\[\]-~]*').fullmatch
_WORD_SAFE = re.compile(r'[!#-\[\]-~]+').fullmatch


def _quote(text: str) -> str:
    """Text safe inside a quoted field of a text line: ``"``, ``\\``, unprintables escaped."""
    if _QUOTED_SAFE(text) is not None or (text.isprintable() and '"' not in text and "\\" not in text):
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
    if _WORD_SAFE(value) is not None or (value.isprintable() and " " not in value and '"' not in value):
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
        request = _Request(self, environ, start_response)
        rid_key = self._rid_key
        if rid_key is not None:
            incoming = environ.get(rid_key)
            if incoming is not None and _VALID.fullmatch(incoming) is not None:
                request_id: str = incoming
            else:
                request_id = f"{_random_bits(128):032x}"
            environ[ENVIRON_KEY] = request_id
            request.request_id = request_id
            request.token = _current.set(request_id)
        try:
            body = self.app(environ, request)
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
        request.body = body
        if hasattr(body, "__len__"):
            request.__class__ = _SizedRequest
        return request

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
        code = int(status[:3]) if status and status[:3].isdigit() else None
        sent = request.sent
        if sent is None:  # a file_wrapper body: what it announced
            sent = _content_length(request.headers)
        duration = (_perf() - request.started) * 1000.0
        request_id = request.request_id or environ.get(ENVIRON_KEY)
        remote = environ.get("REMOTE_ADDR") or None
        method = environ.get("REQUEST_METHOD", "-")
        path = request.path
        handlers = logger.handlers
        direct = (
            len(handlers) == 1
            and type(handlers[0]) is AccessLogHandler
            and not logger.filters
            and not handlers[0].filters
        )
        if direct:
            # Only our own handler, which writes the bare line: no LogRecord,
            # no dict.  A batching handler formats the line later, in its own
            # thread, many at a time (most of the cost per request otherwise).
            handlers[0].emit_line(  # type: ignore[attr-defined]
                self._line,
                (request.began, remote, method, path, code, sent, duration, mount, endpoint, request_id),
            )
            return
        values: dict[str, Any] = {
            "time": self._clock.format(request.began),
            "method": method,
            "path": path,
            "status": code,
            "bytes": sent,
            "duration_ms": round(duration, 3),
            "mount": mount,
            "endpoint": endpoint,
            "request_id": request_id,
            "remote_addr": remote,
        }
        line = self._format(values)
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, line, (), None)
        record.__dict__.update(values)
        logger.handle(record)

    def _line(self, raw: tuple[Any, ...]) -> str:
        """The line for :meth:`write`'s tuple of values (text or JSON)."""
        began, remote, method, path, code, sent, duration, mount, endpoint, request_id = raw
        if self.log_format == "text":
            return (
                f"{self._clock.format(began)} {_word(remote)} "
                f'"{_quote(method)} {_quote(path)}" '
                f"{'-' if code is None else code} {'-' if sent is None else sent} "
                f"{duration:.3f}ms {_word(mount)} {_word(endpoint)} {_word(request_id)}"
            )
        return self._json(
            {
                "time": self._clock.format(began),
                "method": method,
                "path": path,
                "status": code,
                "bytes": sent,
                "duration_ms": round(duration, 3),
                "mount": mount,
                "endpoint": endpoint,
                "request_id": request_id,
                "remote_addr": remote,
            }
        )

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
    """The handler ``--access-log`` installs: the bare line to a stream.

    While it is the ``wsgihub.access`` logger's only handler (and no filter
    is set), :class:`AccessLog` hands it the line directly, without a
    :class:`logging.LogRecord`; anything else configured on that logger
    gets records as usual.

    ``flush_interval`` 0 writes and flushes every line as the request ends
    (stdout, where someone watches).  A positive value batches: the request
    only queues its values, and a daemon thread of the handler formats and
    writes the queued lines every ``flush_interval`` seconds, many at a time
    (a file: a fraction of the per-request cost, as nginx's ``access_log
    ... buffer= flush=``).  :meth:`flush` -- logging's shutdown at exit --
    writes what is queued; a killed process loses at most that interval's
    lines.
    """

    def __init__(self, stream: Any = None, flush_interval: float = 0.0) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter("%(message)s"))
        self.flush_interval = flush_interval
        #: ``(format, values)`` of lines not written yet (deque: thread-safe append/popleft).
        self._queue: deque[tuple[Callable[[Any], str], Any]] = deque()
        self._flusher: threading.Thread | None = None
        if flush_interval > 0:
            # a forked worker (gunicorn) starts its own flusher: threads do not survive fork
            os.register_at_fork(after_in_child=self._forget_flusher)

    def emit_line(self, format_line: Callable[[Any], str], values: Any) -> None:
        """One line, ``format_line(values)``: written now, or queued for the flusher thread."""
        if self.flush_interval <= 0:
            self.write_line(format_line(values))
            return
        self._queue.append((format_line, values))
        if self._flusher is None:
            self._start_flusher()

    def write_line(self, line: str) -> None:
        """Write ``line`` and a newline now, flushed, under the handler's lock."""
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except Exception:  # noqa: BLE001 - as logging does: report, never fail a request
                self.handleError(logging.makeLogRecord({"msg": line}))

    def flush(self) -> None:
        """Write the queued lines, then flush the stream (also what logging's shutdown calls)."""
        with self.lock:  # type: ignore[union-attr]
            queue = self._queue
            if queue and self.stream is not None and not getattr(self.stream, "closed", False):
                lines = []
                try:
                    while True:
                        format_line, values = queue.popleft()
                        lines.append(format_line(values))
                except IndexError:
                    pass
                try:
                    self._write_batch("\n".join(lines) + "\n")
                except Exception:  # noqa: BLE001 - as logging does: report, never fail
                    self.handleError(logging.makeLogRecord({"msg": lines[0]}))
        super().flush()

    def _write_batch(self, text: str) -> None:
        """Write ``text`` with one ``write()`` to the file where possible.

        gunicorn's workers share the file (opened for appending by the
        master): one call per batch keeps their lines from interleaving
        mid-line, which a buffered stream splitting a batch could not.
        """
        stream = self.stream
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            stream.write(text)
            return
        stream.flush()
        data = text.encode(getattr(stream, "encoding", None) or "utf-8", "backslashreplace")
        while data:
            written = os.write(fd, data)
            data = data[written:]

    def _forget_flusher(self) -> None:
        self._flusher = None

    def _start_flusher(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(target=self._flush_every, name="wsgihub access log", daemon=True)
            self._flusher.start()

    def _flush_every(self) -> None:
        """Write the queued lines every ``flush_interval`` seconds (a daemon thread)."""
        me = threading.current_thread()
        while self._flusher is me:
            time.sleep(self.flush_interval)
            if self._queue:
                self.flush()


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value) if value.strip().isdigit() else None
    return None


class _Request:
    """One request: the ``start_response`` the app gets, then the body the server gets.

    One object per request (instead of a closure and a body wrapper): as
    ``start_response`` it records the status, asks for the endpoint and adds
    the ID header; as the body it counts the bytes the server takes, and its
    ``close()`` writes the line.
    """

    __slots__ = (
        "began",
        "body",
        "done",
        "endpoint",
        "environ",
        "headers",
        "log",
        "mount",
        "path",
        "request_id",
        "sent",
        "server_start",
        "server_write",
        "started",
        "status",
        "token",
    )

    def __init__(self, log: AccessLog, environ: Environ, start_response: StartResponse) -> None:
        self.began = _wall()
        self.started = _perf()
        self.log = log
        self.environ = environ
        # as received: the hub moves the mount prefix to SCRIPT_NAME in place
        self.path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        self.server_start = start_response
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent: int | None = 0
        self.request_id: str | None = None
        self.token: Token[str] | None = None
        self.done = False
        #: ``(mount, endpoint)`` once asked (from start_response), else unknown.
        self.mount: str | None = None
        self.endpoint: str | None = None
        self.body: Iterable[bytes] = ()

    # -- as start_response ------------------------------------------------------------
    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        """The ``start_response`` the app gets: records the status, adds the ID header."""
        log = self.log
        self.status = status
        self.headers = headers
        if log.logger.isEnabledFor(logging.INFO):
            # Asked now, while the framework's request state is still up
            # (Flask's request object): cheaper than matching again later.
            self.mount, self.endpoint = endpoint_of(self.environ)
        request_id = self.request_id
        if request_id is not None:
            lower = log._rid_lower
            size = len(lower)
            for name, _value in headers:
                if len(name) == size and name.lower() == lower:
                    break
            else:
                headers = [*headers, (log.request_id_header or "", request_id)]
        self.server_write = self.server_start(status, headers, exc_info)
        return self.write

    def write(self, data: bytes) -> Any:
        """The ``write`` callable of PEP 3333, counting what it is given."""
        result = self.server_write(data)
        if self.sent is not None:
            self.sent += len(data)
        return result

    # -- as the body ------------------------------------------------------------------
    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            yield chunk
            # counted once the server came back for more: it took the chunk
            self.sent += len(chunk)  # type: ignore[operator]

    def close(self) -> None:
        """The server is done with the body: close the app's, then write the line."""
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.finish()

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


class _SizedRequest(_Request):
    """A body with a length (a list): waitress sets Content-Length for one chunk."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self.body)  # type: ignore[arg-type]
