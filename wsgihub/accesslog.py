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
  server closed the response body, in milliseconds to the microsecond
  (:func:`_micros`): three decimals in a text line, the shortest decimal in
  JSON (``0.25``, ``12.0``).
- ``path`` is the path as the client sent it, percent-encoded: the server's
  ``SCRIPT_NAME + PATH_INFO`` before the hub moved the mount prefix (PEP 3333
  gives the path's bytes decoded as latin-1) with every byte that is not
  one of RFC 3986's path characters (letters, digits, ``-._~!$&'()*+,;=:@/``)
  written as ``%XX``: ``/caf%C3%A9`` for ``/café``, ``%20`` for a space,
  ``%25`` for ``%``, ``%0A`` for a newline.  ASCII only, the same in text and
  JSON lines, and a request cannot forge a line through it.  The query
  string is left out (it may hold tokens).  In text lines, ``"``, ``\\`` and
  unprintable characters of the other columns are escaped (``\\x0a``).
- ``bytes`` counts the body bytes the server took from the app (for a
  ``wsgi.file_wrapper`` body: its ``Content-Length``).  The line is written
  when the server closes the body -- also when the client went away
  mid-response: then with the status and the bytes sent so far.
- ``mount`` is the name of the peg that served the request
  (``environ["pegboard.peg"]``), ``endpoint`` the framework's own route name,
  asked of the mount's adapter (:meth:`wsgihub.adapter.Adapter.endpoint`)
  only when a line is to be written: with ``--access-log``'s own handler,
  in the handler's thread when it writes the batch, once per distinct
  request (mount, method, path, host) in it, with an environ holding just
  those (the adapter matches the path again); for a logger configured
  otherwise, when the server closes the body, with the request's environ.
  The adapter answers from the mount's own routes: a URL conf a Django
  request picks for itself (``request.urlconf``, django-hosts) is not
  known there, and such a request's endpoint is the one ``ROOT_URLCONF``
  gives the path (often none: ``-``); documented in ``docs/deployment.md``.
- ``request_id`` is ``environ["wsgihub.request_id"]`` (see
  :mod:`wsgihub.requestid`); given ``request_id_header``, this middleware
  also does the request-ID work itself (one layer instead of two).

Each record also carries the values as attributes (``%(status)s``,
``%(mount)s`` ... in a format string of one's own); its message is the
line.  While ``--access-log``'s own :class:`AccessLogHandler` is the
logger's only handler, no record is built at all: a request hands the
handler a tuple of its values.  To stdout the line is written and flushed
at once; to a file the values wait in a queue and the handler's thread
asks the endpoints, formats and writes the queued lines once a second,
many at a time, with one ``write()``.  What a request runs itself is kept
to a few Python calls: in a server, whose caches the rest of the request
has just filled, every line of code a request runs costs several times
what it costs in a loop, while the handler's thread runs the same code
for a thousand lines in a row (``docs/benchmarks.md``, "Access log and
request IDs").  This module imports nothing but the standard library and
the core.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import Token
from json.encoder import encode_basestring as _json_string
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

from .accesslines import WIDTH, Clock, JsonColumns, TextColumns, json_lines, text_lines
from .requestid import ENVIRON_KEY, REQUEST_ID_VAR, VALID_ID, install_record_factory, new_request_id

if TYPE_CHECKING:
    from .types import Environ, StartResponse, WSGIApplication

__all__ = [
    "ACCESS_LOGGER",
    "FIELDS",
    "LOG_FORMATS",
    "AccessLog",
    "AccessLogHandler",
    "announced_length",
    "endpoint_of",
    "logged_path",
]

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

#: Lines the writer formats per call of :mod:`wsgihub.accesslines` (see :meth:`AccessLog._in_chunks`).
CHUNK_LINES = 256

_perf = time.perf_counter
_floor = math.floor
_wall = time.time
_INFO = logging.INFO

#: One request's values, all atoms: :data:`Where` and then ``(path, status, peg,
#: started, ended, bytes, request_id)``.  A handler's queue, a list, holds them
#: one after the other, :data:`WIDTH` items a request (``list.extend`` of the
#: tuple, one C call: no tuple per request waits in the queue, so none is left
#: for the garbage collector to look at, and the handler's thread takes a batch
#: with a slice).  ``path`` is the path as received, not yet
#: percent-encoded; ``peg`` is the ``id()`` of the peg that served the request (0:
#: none); ``started`` and ``ended`` are ``time.perf_counter()`` values, ``ended -
#: started`` finite and not negative; ``request_id`` is safe in a line as it is
#: (a text column, the inside of a JSON string: see :meth:`AccessLog._outside_id`).
#: :data:`Where`'s method, script name, path info and host are what the peg's
#: adapter is asked the endpoint with, in the handler's thread, once per distinct
#: request in a batch.
Values = tuple[str, str, str, str, "str | None", str, "str | None", int, float, float, "int | None", "str | None"]

#: ``(method, script_name, path_info, remote_addr, host)`` of a request (``remote_addr``
#: ``""`` and ``host`` ``None`` when unknown): the first five of :data:`Values`.
Where = tuple[str, str, str, str, str | None]

#: The path as received (KeyError: one missing).
_script_path = itemgetter("SCRIPT_NAME", "PATH_INFO")


def _where_slowly(environ: Environ) -> Where:
    """:data:`Where` of an environ lacking some of the keys (no Host header, say)."""
    return (
        environ.get("REQUEST_METHOD", "-"),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("REMOTE_ADDR") or "",
        environ.get("HTTP_HOST"),
    )


#: Formats a batch -- :data:`Values` one after the other, flat -- into lines, each ending in a newline.
FormatBatch = Callable[..., str]


def _micros(seconds: float) -> int:
    """A duration in whole microseconds, rounded half up (a line's ``duration_ms`` is this / 1000)."""
    return _floor(seconds * 1e6 + 0.5)


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


# -- the path as the client sent it --------------------------------------------------------
#: RFC 3986's path characters (pchar and "/") but "%": logged as they are.
_PATH_SAFE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*").fullmatch


def _percent_encoded(path: str) -> str:
    """``path`` (a PEP 3333 string: bytes decoded as latin-1) as a client sends it, ``%XX``-encoded."""
    if _PATH_SAFE(path) is not None:
        return path
    try:
        raw = path.encode("latin-1")
    except UnicodeEncodeError:  # not from a server: characters past U+00FF, taken as UTF-8
        raw = path.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="/!$&'()*+,;=:@")


def logged_path(environ: Environ) -> str:
    """The path the access log shows for ``environ`` (see the module docstring).

    ``SCRIPT_NAME + PATH_INFO``, percent-encoded as a client sends it: ASCII
    only, no space or quote, the query string left out.  Call it before the
    hub dispatches (the hub moves the mount prefix to ``SCRIPT_NAME`` in place).
    """
    return _percent_encoded(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))


# -- text and JSON --------------------------------------------------------------------------
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


def _status_code(status: str | None) -> int | None:
    """The number of a WSGI status line (``"404 Not Found"``: 404), ``None`` when there is none."""
    return int(status[:3]) if status and status[:3].isdigit() else None


#: Most a cache of formatted values (mounts, endpoints, methods, addresses) holds.
_CACHE_SIZE = 4096


class _Cache(dict[Any, str]):
    """``cache[value]``: ``make(value)``, remembered; a line's few distinct values are formatted once."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, value: Any) -> str:
        made = self.make(value)
        if len(self) < _CACHE_SIZE:
            self[value] = made
        return made


def _json_value(value: str | None) -> str:
    return "null" if value is None else _json_string(value)


def _json_addr(value: str | None) -> str:
    return "null" if not value else _json_string(value)


def _text_named(pair: tuple[str | None, str | None]) -> str:
    return f"{_word(pair[0])} {_word(pair[1])}"


def _json_named(pair: tuple[str | None, str | None]) -> str:
    return f'"mount": {_json_value(pair[0])}, "endpoint": {_json_value(pair[1])}'


def _json_code(status: str | None) -> str:
    code = _status_code(status)
    return "null" if code is None else str(code)


def _text_code(status: str | None) -> str:
    code = _status_code(status)
    return "-" if code is None else str(code)


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
        #: logging's cache of this logger's isEnabledFor answers (cleared by logging itself
        #: when a level changes); an empty dict where a Python has none: always ask.
        levels = getattr(self.logger, "_cache", None)
        self._levels: dict[int, bool] = levels if isinstance(levels, dict) else {}
        self.request_id_header = request_id_header
        self._clock = Clock()
        # formatted values by value: a site has few mounts, endpoints, methods, statuses
        self._words = _Cache(_word)
        self._methods = _Cache(_quote)
        self._codes = _Cache(_json_code if log_format == "json" else _text_code)
        self._json = _Cache(_json_value)
        self._addrs = _Cache(_json_addr)
        self._paths = _Cache(_percent_encoded)
        #: ``(mount, endpoint)`` as a line shows them: ``"new user"``, ``"mount": "new", "endpoint": "user"``.
        self._named = _Cache(_json_named if log_format == "json" else _text_named)
        #: Formats a batch of values (what the handler's thread calls, many lines at a time).
        self.format_batch: FormatBatch = self._json_batch if log_format == "json" else self._text_batch
        #: ``([handler], handler, its queue for this log)`` once the logger's only handler
        #: was an :class:`AccessLogHandler`; the list (what the logger's handlers are
        #: compared with) is ``None`` for a handler that writes at once (no queue).
        self._direct: _Direct = (None, None, None)
        #: The pegs lines name, by ``id()`` (see :data:`Values`).
        self._pegs: dict[int, Any] = {}
        #: ``id()`` of the pegs hashed by identity, by peg (``None``: 0): one lookup a request.
        self._peg_ids: dict[Any, int] = {None: 0}
        if request_id_header is not None:
            self._rid_key: str | None = "HTTP_" + request_id_header.upper().replace("-", "_")
            self._rid_lower = request_id_header.lower()
            install_record_factory()
        else:
            self._rid_key = None
            self._rid_lower = ""
        self._rid_size = len(self._rid_lower)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Call the app; the line is written when the server closes the body."""
        # The request object is filled in here rather than in an __init__: a
        # Python call less on every request (what a request pays for most).
        request = _new_request(_Request)
        request.started = _perf()
        request.log = self
        request.environ = environ
        # as received: the hub moves the mount prefix to SCRIPT_NAME in place
        try:
            script_name, path_info = _script_path(environ)
        except KeyError:
            script_name, path_info = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")
        request.path = script_name + path_info
        request.server_start = start_response
        request.status = None
        request.sent = 0
        request.body = ()
        rid_key = self._rid_key
        if rid_key is not None:
            request_id = environ.get(rid_key)
            if request_id is None or VALID_ID.fullmatch(request_id) is None:
                request_id = new_request_id()
            environ[ENVIRON_KEY] = request_id
            request.request_id = request_id
            request.token = REQUEST_ID_VAR.set(request_id)
        else:
            request.request_id = None
            request.token = None
        try:
            body = self.app(environ, request)
        except BaseException:
            if request.status is None:
                request.status = "500"
            request.close()  # the body is still (): writes the line
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
    def _peg_id(self, peg: Any) -> int:
        """The number a line names ``peg`` by (0: none), the peg kept for the handler's thread (see :data:`Values`)."""
        if peg is None:
            return 0
        peg_id = id(peg)
        pegs = self._pegs
        if peg_id not in pegs:
            if len(pegs) >= _CACHE_SIZE:  # mounted and unmounted over and over: start again
                pegs.clear()
                self._peg_ids = {None: 0}
            pegs[peg_id] = peg
        kind = type(peg)
        if kind.__hash__ is _OBJECT_HASH and kind.__eq__ is _OBJECT_EQ:  # found again by identity
            self._peg_ids[peg] = peg_id
        return peg_id

    def _outside_id(self, request_id: Any) -> str | None:
        """A request ID given from outside (another layer's, :meth:`log_request`'s) as a line takes it.

        ``None`` stays ``None``.  An ID that is not well-formed
        (:func:`wsgihub.requestid.is_valid_request_id`) is escaped here, as a
        text column or as the inside of a JSON string, so that the handler's
        thread writes every ID as it is (escaping each line's ID as a JSON
        string cost ~1.1k CPU instructions); :meth:`_emit_record` gives a
        record the ID as it came.
        """
        if request_id is None:
            return None
        text = request_id if type(request_id) is str else str(request_id)
        if VALID_ID.fullmatch(text) is not None:
            return text
        return _json_string(text)[1:-1] if self.log_format == "json" else _word(text)

    def _queue(self, values: Values, environ: Environ | None) -> None:
        """Hand ``values`` to the logger: the direct queue, a line now (stdout), or a record.

        ``environ``: the request's (asked for the endpoint when a record is
        made); ``None`` to build one from the values.
        """
        logger = self.logger
        handlers = logger.handlers
        handler = handlers[0] if len(handlers) == 1 else None
        if type(handler) is AccessLogHandler and not logger.filters and not handler.filters:
            _only, direct_handler, queue = self._direct
            if direct_handler is not handler:
                queue = handler.queue_for(self.format_batch)
                self._direct = (None if queue is None else [handler], handler, queue)
            if queue is None:  # stdout: now
                handler.write_text(self.format_batch(values))
            else:
                queue.extend(values)
                if handler._flusher is None:
                    handler._start_flusher()
            return
        if environ is None:
            method, script_name, path_info, _remote, host, _path, _status, peg_id = values[:8]
            environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": script_name, "PATH_INFO": path_info}
            peg = self._pegs.get(peg_id) if peg_id else None
            if peg is not None:
                environ["pegboard.peg"] = peg
            if host is not None:
                environ["HTTP_HOST"] = host
        self._emit_record(values, environ)

    def _names(self, key: _NameKey) -> tuple[str | None, str | None]:
        """``(mount, endpoint)`` for a line, asked of the peg's adapter (see :func:`endpoint_of`).

        Runs in the handler's thread, once per distinct request in a batch,
        with an environ holding what the adapter matches on: the method, the
        app's own ``SCRIPT_NAME`` and ``PATH_INFO``, the host and the peg.
        """
        peg_id, method, script_name, path_info, host = key
        peg = self._pegs.get(peg_id) if peg_id else None
        if peg is None:
            return None, None
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": script_name,
            "PATH_INFO": path_info,
            "pegboard.peg": peg,
        }
        if host is not None:
            environ["HTTP_HOST"] = host
        return endpoint_of(environ)

    def finished(
        self,
        started: float,
        path: str,
        status: str | None,
        sent: int | None,
        request_id: str | None,
        environ: Environ,
    ) -> None:
        """Hand over the line of a request that just ended (the server closed its body).

        What this middleware's request object calls, and what a server that
        does the access log's work itself calls (:mod:`wsgihub.servers.waitress_front`):
        ``started`` is ``time.perf_counter()`` when the request came in,
        ``path`` the path as received (``SCRIPT_NAME + PATH_INFO`` before the
        hub moved the mount prefix, not yet percent-encoded), ``status`` the
        status line the app gave (``None``: none), ``sent`` the body bytes
        the server took, ``request_id`` the request's ID, well-formed
        (:data:`wsgihub.requestid.VALID_ID`: it is written as it is; ``None``:
        the environ's ``wsgihub.request_id``, another layer's, escaped if need be).  The rest
        (method, the mount's own ``SCRIPT_NAME``/``PATH_INFO``, client
        address, host, the peg) is read from ``environ`` now.  With the
        logger's one :class:`AccessLogHandler` the values are only queued
        (the line, mount and endpoint are made in the handler's thread).
        """
        logger = self.logger
        # Logger.isEnabledFor(INFO) without the call: the answer logging
        # caches (the same dict it clears when a level changes), else ask.
        if not (self._levels.get(_INFO) or logger.isEnabledFor(_INFO)) or logger.disabled:
            return
        peg = environ.get("pegboard.peg")
        try:  # one lookup instead of id() and a test whether the peg is kept
            peg_id = self._peg_ids[peg]
        except (KeyError, TypeError):
            peg_id = self._peg_id(peg)
        if request_id is None:
            request_id = self._outside_id(environ.get(ENVIRON_KEY))
        # one tuple, built at once (a concatenation of two costs more)
        try:
            values: Values = (
                environ["REQUEST_METHOD"],
                environ["SCRIPT_NAME"],
                environ["PATH_INFO"],
                environ["REMOTE_ADDR"],
                environ["HTTP_HOST"],
                path,
                status,
                peg_id,
                started,
                _perf(),
                sent,
                request_id,
            )
        except KeyError:
            values = _where_slowly(environ) + (path, status, peg_id, started, _perf(), sent, request_id)
        only, handler, queue = self._direct
        # the handlers compared with a list of the one handler: one C call
        # (a handler list and a queue of the direct case are never None)
        if (
            logger.handlers == only
            and handler._flusher is not None  # type: ignore[union-attr]
            and not logger.filters
            and not handler.filters  # type: ignore[union-attr]
        ):
            queue.extend(values)  # type: ignore[union-attr]
        else:
            self._queue(values, environ)

    def log_request(
        self,
        *,
        started: float,
        remote_addr: str | None,
        method: str,
        path: str,
        status: int | str | None,
        sent: int | None,
        request_id: str | None,
        peg: Any = None,
        script_name: str = "",
        path_info: str = "",
        host: str | None = None,
        ended: float | None = None,
    ) -> None:
        """Write the line of a request served outside this middleware (a native ASGI request).

        The same line, format and handler as a WSGI request's: ``started``
        and ``ended`` (default: now) are ``time.perf_counter()`` values;
        ``path`` is the path as received, as PEP 3333 gives it (its bytes
        decoded as latin-1, not yet percent-encoded; see :func:`logged_path`):
        from an ASGI scope, whose ``path`` is decoded as UTF-8, that is
        ``scope["path"].encode("utf-8").decode("latin-1")`` -- otherwise
        ``/café`` would be logged ``/caf%E9`` instead of ``/caf%C3%A9``
        (the same goes for ``path_info``); ``status`` a code or a
        status line; ``peg`` the peg that served it, asked for the endpoint
        with ``script_name``/``path_info`` (the mount's own), ``method`` and
        ``host``.  Does nothing while the logger is not enabled for INFO.
        """
        logger = self.logger
        if not logger.isEnabledFor(_INFO):
            return
        peg_id = self._peg_id(peg)
        if ended is None:
            ended = _perf()
        if not (math.isfinite(started) and 0.0 <= ended - started < math.inf):  # a duration of 0
            started = ended = started if math.isfinite(started) else _perf()
        values: Values = (
            method,
            script_name,
            path_info,
            remote_addr or "",
            host,
            path,
            None if status is None else str(status),
            peg_id,
            started,
            ended,
            sent,
            self._outside_id(request_id),
        )
        self._queue(values, None)

    def _emit_record(self, values: Values, environ: Environ) -> None:
        """Hand a :class:`logging.LogRecord` with the values as attributes to the logger.

        For a logger configured otherwise than with its one
        :class:`AccessLogHandler`: the endpoint is asked now, of the
        request's own environ.
        """
        logger = self.logger
        method, script_name, path_info, remote, host, path, status, peg_id, started, ended, sent, request_id = values
        mount, endpoint = endpoint_of(environ)
        fields: dict[str, Any] = {
            "time": self._clock.format(started + (_wall() - _perf())),
            "method": method,
            "path": _percent_encoded(path),
            "status": _status_code(status),
            "bytes": sent,
            "duration_ms": _micros(ended - started) / 1000,
            "mount": mount,
            "endpoint": endpoint,
            "request_id": request_id,
            "remote_addr": remote or None,
        }
        if request_id is not None and "\\" in request_id and self.log_format == "json":
            fields["request_id"] = json.loads(f'"{request_id}"')  # as it came (see _outside_id)
        names = {(peg_id, method, script_name, path_info, host): (mount, endpoint)}
        line = self.format_batch(values, names)[:-1]
        record = logger.makeRecord(logger.name, _INFO, __file__, 0, line, (), None)
        record.__dict__.update(fields)
        logger.handle(record)

    def _text_batch(self, batch: Sequence[Any], names: _Names | None = None) -> str:
        """Text lines for ``batch`` (:data:`Values` one after the other; each line ends in a newline).

        :func:`wsgihub.accesslines.text_lines` (compiled where the wheel was
        built so), with this log's clock and columns; ``names`` holds the
        ``(mount, endpoint)`` already asked, by :data:`_NameKey`.
        """
        found: _Names = {} if names is None else names

        def columns(key: _PartKey) -> TextColumns:
            return self._text_columns(key, found)

        return self._in_chunks(text_lines, batch, columns)

    def _text_columns(self, key: _PartKey, names: _Names) -> tuple[str, str]:
        """A text line's pieces around its bytes: ``' client "method path" status '`` and ``'mount endpoint '``."""
        method, _script, _info, remote, _host, path, status, _peg = key
        return (
            f' {self._words[remote]} "{self._methods[method]} {self._paths[path]}" {self._codes[status]} ',
            f"{self._named[self._pair(key, names)]} ",
        )

    def _json_batch(self, batch: Sequence[Any], names: _Names | None = None) -> str:
        """JSON lines for ``batch``: :func:`wsgihub.accesslines.json_lines`, as :meth:`_text_batch`."""
        found: _Names = {} if names is None else names

        def columns(key: _PartKey) -> JsonColumns:
            return self._json_columns(key, found)

        return self._in_chunks(json_lines, batch, columns)

    def _in_chunks(self, format_lines: Callable[..., str], batch: Sequence[Any], columns: Callable[[_PartKey], Any]) -> str:
        """``format_lines`` over ``batch``, :data:`CHUNK_LINES` lines a call, the columns made once for all.

        Compiled, one call keeps the interpreter until it returns (a busy
        second's batch is thousands of lines, ~10 ms); between two calls the
        request threads get it back.
        """
        offset = _wall() - _perf()
        made: dict[_PartKey, Any] = {}
        step = CHUNK_LINES * WIDTH
        if len(batch) <= step:
            return format_lines(batch, offset, self._clock, made, columns)
        return "".join(
            [format_lines(batch[start : start + step], offset, self._clock, made, columns) for start in range(0, len(batch), step)]
        )

    def _json_columns(self, key: _PartKey, names: _Names) -> tuple[str, str, str]:
        """A JSON line's pieces after its time, after its duration and after its ID (see :meth:`_json_batch`)."""
        method, _script, _info, remote, _host, path, status, _peg = key
        return (
            f'", "method": {self._json[method]}, "path": "{self._paths[path]}", "status": {self._codes[status]}, "bytes": ',
            f', {self._named[self._pair(key, names)]}, "request_id": ',
            f', "remote_addr": {self._addrs[remote]}}}\n',
        )

    def _pair(self, key: _PartKey, names: _Names) -> tuple[str | None, str | None]:
        """``(mount, endpoint)`` of a line, from ``names`` or asked (then kept in ``names``)."""
        method, script_name, path_info, _remote, host, _path, _status, peg = key
        name_key = (peg, method, script_name, path_info, host)
        pair = names.get(name_key)
        if pair is None:
            pair = names[name_key] = self._names(name_key)
        return pair


class AccessLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``--access-log`` installs: the bare line to a stream.

    While it is the ``wsgihub.access`` logger's only handler (and no filter
    is set), :class:`AccessLog` hands it each request's values directly,
    without a :class:`logging.LogRecord`; anything else configured on that
    logger gets records as usual.

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
        #: :data:`Values` not written yet, one after the other, one queue per batch formatter.
        #: A request's ``extend`` is one C call (no other thread runs meanwhile); the
        #: handler's thread copies the requests queued so far and deletes just those
        #: (requests only ever add at the end).
        self._queues: dict[FormatBatch, list[Any]] = {}
        self._flusher: threading.Thread | None = None
        if flush_interval > 0:
            # a forked worker (gunicorn) starts its own flusher: threads do not survive fork
            os.register_at_fork(after_in_child=self._forget_flusher)

    def queue_for(self, format_batch: FormatBatch) -> list[Any] | None:
        """The queue whose values ``format_batch`` turns into lines (``None``: write at once)."""
        if self.flush_interval <= 0:
            return None
        with self.lock:  # type: ignore[union-attr]
            return self._queues.setdefault(format_batch, [])

    def write_text(self, text: str) -> None:
        """Write ``text`` (whole lines) now, flushed, under the handler's lock."""
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # noqa: BLE001 - as logging does: report, never fail a request
                self.handleError(logging.makeLogRecord({"msg": text}))

    def flush(self) -> None:
        """Write the queued lines, then flush the stream (also what logging's shutdown calls)."""
        with self.lock:  # type: ignore[union-attr]
            if self._queues and self.stream is not None and not getattr(self.stream, "closed", False):
                texts = []
                for format_batch, queue in list(self._queues.items()):
                    # the requests queued so far (others may be added at the end meanwhile)
                    queued = len(queue)
                    queued -= queued % WIDTH
                    batch = queue[:queued]
                    del queue[:queued]
                    if batch:
                        try:
                            texts.append(format_batch(batch))
                        except Exception:  # noqa: BLE001 - as logging does: report, never fail
                            self.handleError(logging.makeLogRecord({"msg": repr(batch[:WIDTH])}))
                if texts:
                    try:
                        self._write_batch("".join(texts))
                    except Exception:  # noqa: BLE001 - as logging does: report, never fail
                        self.handleError(logging.makeLogRecord({"msg": texts[0][:200]}))
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
            if any(list(self._queues.values())):
                self.flush()


def announced_length(headers: list[tuple[str, str]]) -> int | None:
    """The ``Content-Length`` among a response's headers (``None``: none, or not a number).

    What a line's ``bytes`` is for a ``wsgi.file_wrapper`` body, which the
    server sends by itself.
    """
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value) if value.strip().isdigit() else None
    return None


#: Headers of a request whose app never called start_response.
_NO_HEADERS: list[tuple[str, str]] = []

#: ``(peg, method, script_name, path_info, host)``: what a line's mount and endpoint depend on.
_NameKey = tuple[int, str, str, str, str | None]
#: ``(mount, endpoint)`` by :data:`_NameKey`: asked once per distinct request in a batch.
_Names = dict[_NameKey, tuple[str | None, str | None]]
#: ``(method, script_name, path_info, remote_addr, host, path, status, peg)``: what a line's
#: columns but time, bytes, duration and ID depend on (the first eight of :data:`Values`).
_PartKey = tuple[str, str, str, str, "str | None", str, "str | None", int]
#: What a peg hashed and compared by identity has (:meth:`AccessLog._peg_id`).
_OBJECT_HASH: Any = object.__hash__
_OBJECT_EQ: Any = object.__eq__
#: ``([handler], handler, queue)`` of :attr:`AccessLog._direct`.
_Direct = tuple["list[logging.Handler] | None", "AccessLogHandler | None", "list[Any] | None"]


class _Request:
    """One request: the ``start_response`` the app gets, then the body the server gets.

    One object per request (instead of a closure and a body wrapper): as
    ``start_response`` it records the status and adds the ID header; as the
    body it counts the bytes the server takes, and its ``close()`` writes
    the line.  :class:`AccessLog` fills its slots (no ``__init__``).
    """

    __slots__ = (
        "body",
        "environ",
        "headers",
        "log",
        "path",
        "request_id",
        "sent",
        "server_start",
        "server_write",
        "started",
        "status",
        "token",
    )

    started: float
    log: AccessLog
    environ: Environ
    path: str
    server_start: StartResponse
    server_write: Callable[[bytes], Any]
    status: str | None
    headers: list[tuple[str, str]]
    sent: int | None
    #: ``None`` once closed (the line is written once)
    body: Iterable[bytes] | None
    request_id: str | None
    token: Token[str] | None

    # -- as start_response ------------------------------------------------------------
    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        """The ``start_response`` the app gets: records the status, adds the ID header."""
        self.status = status
        self.headers = headers
        request_id = self.request_id
        if request_id is not None:
            log = self.log
            lower = log._rid_lower
            size = log._rid_size
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
        for chunk in self.body:  # type: ignore[union-attr]
            yield chunk
            # counted once the server came back for more: it took the chunk
            self.sent += len(chunk)  # type: ignore[operator]

    def close(self) -> None:
        """The server is done with the body: close the app's, then write the line (once).

        Then the request's ID context ends.  With the logger's one
        :class:`AccessLogHandler` (``--access-log``) the request only hands
        the handler a tuple of atoms: the line, the mount and the endpoint
        are made later, in the handler's thread (:meth:`AccessLog.finished`,
        which a server doing this work itself calls too).
        """
        body = self.body
        if body is None:
            return
        self.body = None
        try:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        finally:
            try:
                sent = self.sent
                if sent is None:  # a file_wrapper body: what it announced
                    sent = announced_length(getattr(self, "headers", _NO_HEADERS))
                self.log.finished(self.started, self.path, self.status, sent, self.request_id, self.environ)
            finally:
                token = self.token
                if token is not None:
                    try:
                        REQUEST_ID_VAR.reset(token)
                    except (ValueError, RuntimeError):  # closed in another context
                        REQUEST_ID_VAR.set("-")

    def file_body(self, body: Any) -> None:
        """A ``wsgi.file_wrapper`` body: ``bytes`` from Content-Length; log on its close()."""
        self.sent = None
        original = getattr(body, "close", None)

        def close() -> None:
            try:
                if original is not None:
                    original()
            finally:
                self.close()  # self.body is (): writes the line

        body.close = close


_new_request = object.__new__


class _SizedRequest(_Request):
    """A body with a length (a list): waitress sets Content-Length for one chunk."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self.body)  # type: ignore[arg-type]
