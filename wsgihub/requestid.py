"""Request IDs: one per request, kept from the client when well-formed, on every log record.

::

    from wsgihub.requestid import RequestID, current_request_id

    app = RequestID(hub)                       # header "X-Request-ID" (the default)
    app = RequestID(hub, header="X-Trace")     # another header name

For each request the middleware takes the incoming header (``X-Request-ID``
unless told otherwise) when it is well-formed -- 1 to 128 characters of
``A-Z a-z 0-9 . _ : -`` -- and otherwise makes one (:func:`new_request_id`,
32 hex digits like ``uuid.uuid4().hex``).  The ID is then

- in the environ as ``environ["wsgihub.request_id"]`` (any app, any framework);
- in the response's header of the same name (unless the app set that header itself);
- on every :class:`logging.LogRecord` created while the request runs, as
  ``record.request_id`` (``"-"`` outside a request), whichever logger emits
  it -- Django's, Flask's, waitress's: a format string may say
  ``%(request_id)s``.  This is a log-record factory reading a
  :class:`contextvars.ContextVar` (:func:`install_record_factory`), so no
  handler or logger needs configuring; :class:`RequestIdFilter` does the same
  for handlers of a logging configuration that is set up elsewhere.

"While the request runs" is from the call of the app until the server closes
the response body, the body's iteration included (a streamed response that
logs from its generator has the ID too).  Servers run each request in one
thread (waitress, gunicorn's sync and gthread workers), which is what the
context variable follows.

This module imports nothing but the standard library.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import Environ, StartResponse, WSGIApplication

__all__ = [
    "DEFAULT_HEADER",
    "ENVIRON_KEY",
    "REQUEST_ID_VAR",
    "VALID_ID",
    "RequestID",
    "RequestIdFilter",
    "current_request_id",
    "install_record_factory",
    "is_valid_request_id",
    "new_request_id",
    "reset_request_id",
    "set_request_id",
]

#: The header read from requests and set on responses unless told otherwise.
DEFAULT_HEADER = "X-Request-ID"

#: The environ key holding the request's ID.
ENVIRON_KEY = "wsgihub.request_id"

#: What an incoming ID must look like to be kept (bounded: at most 128 characters).
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

#: The ID of the request running in this context (``"-"``: none).  The front layers set and
#: reset it directly (one call each), as :func:`set_request_id` and :func:`reset_request_id` do.
REQUEST_ID_VAR: ContextVar[str] = ContextVar("wsgihub.request_id", default="-")


def current_request_id() -> str:
    """The ID of the request running in this thread (or context), ``"-"`` outside one."""
    return REQUEST_ID_VAR.get()


def set_request_id(request_id: str) -> Token[str]:
    """Make ``request_id`` the ID of the request running in this context (log records carry it).

    For a server that runs requests outside :class:`RequestID` (native ASGI
    requests); end it with :func:`reset_request_id` when the request ends.
    """
    return REQUEST_ID_VAR.set(request_id)


def reset_request_id(token: Token[str]) -> None:
    """End what :func:`set_request_id` began (``"-"`` when ended in another context)."""
    try:
        REQUEST_ID_VAR.reset(token)
    except (ValueError, RuntimeError):  # reset in another context than it was set in
        REQUEST_ID_VAR.set("-")


def is_valid_request_id(value: str) -> bool:
    """Whether an incoming ID is kept: 1-128 characters of ``A-Za-z0-9._:-``."""
    return VALID_ID.fullmatch(value) is not None


#: IDs made ahead, many at a time (:func:`new_request_id` takes one).
_pool: list[str] = []
#: The next ID made ahead (``IndexError`` when none is left: then :func:`_refill`).  The
#: waitress task calls it itself, a Python call less per request than :func:`new_request_id`.
_take = _pool.pop
#: How many IDs :func:`_refill` makes at once.
POOL_SIZE = 256

# A forked child (a gunicorn worker) makes its own: never the parent's.
os.register_at_fork(after_in_child=_pool.clear)


def new_request_id() -> str:
    """A fresh ID: 32 random hex digits (the shape of ``uuid.uuid4().hex``).

    From ``os.urandom``, :data:`POOL_SIZE` IDs' worth of bytes at a time
    (one system call per batch; a forked child such as a gunicorn worker
    makes its own).  An ID must be unique, not unguessable: never use one
    as a secret.

    The IDs are made :data:`POOL_SIZE` at a time and handed out one by one
    (``list.pop``): a request then runs none of the code that makes one,
    which in a server whose caches the rest of the request has just filled
    costs several times what it does in a loop (``docs/benchmarks.md``).
    """
    try:
        return _take()
    except IndexError:
        return _refill()


def _refill() -> str:
    """Make :data:`POOL_SIZE` IDs; return one of them.

    ``16 * POOL_SIZE`` random bytes from ``os.urandom`` in hex with a space
    every 16 bytes, split: a few C calls for all of them (680 CPU
    instructions per ID, callgrind; ``random.getrandbits`` and ``to_bytes``
    for the bytes made it 1,260, slicing the digits in Python 2,030, a
    number per ID about 1,500 on each request).
    """
    _pool.extend(os.urandom(16 * POOL_SIZE).hex(" ", 16).split(" "))
    try:
        return _take()
    except IndexError:  # other threads took them all meanwhile
        return os.urandom(16).hex()


class RequestIdFilter(logging.Filter):
    """A logging filter that sets ``record.request_id`` (for configured handlers).

    Not needed where :func:`install_record_factory` ran (``wsgihub serve``
    installs it); useful in a ``dictConfig`` of a process that serves the
    hub some other way: ``"filters": {"rid": {"()": "wsgihub.requestid.RequestIdFilter"}}``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``record.request_id`` (when not set already); never drops a record."""
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID_VAR.get()
        return True


_installed = False


def install_record_factory() -> None:
    """Make every :class:`logging.LogRecord` carry ``request_id`` (once per process).

    Wraps the current record factory, so a factory installed before (by
    OpenTelemetry's logging instrumentation, say) keeps working.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    current = REQUEST_ID_VAR.get

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class RequestID:
    """WSGI middleware giving each request its ID (see the module docstring).

    ``header`` is the header name read and written (``X-Request-ID``).
    Creating one installs the log-record factory (:func:`install_record_factory`).
    """

    def __init__(self, app: WSGIApplication, header: str = DEFAULT_HEADER) -> None:
        self.app = app
        self.header = header
        self._environ_key = "HTTP_" + header.upper().replace("-", "_")
        self._lower = header.lower()
        install_record_factory()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Run the app with the request's ID set; the ID stays set until the body is closed."""
        request_id = environ.get(self._environ_key)
        if request_id is None or VALID_ID.fullmatch(request_id) is None:
            request_id = new_request_id()
        environ[ENVIRON_KEY] = request_id
        # filled in here, not in an __init__: a Python call less per request
        # (each costs several times more in a server than in a loop: docs/benchmarks.md)
        request = _new_request(_Request)
        request.middleware = self
        request.request_id = request_id
        request.server_start = start_response
        request.body = ()
        request.token = token = REQUEST_ID_VAR.set(request_id)
        try:
            body = request.body = self.app(environ, request)
        except BaseException:
            REQUEST_ID_VAR.reset(token)
            raise
        if hasattr(body, "__len__"):
            request.__class__ = _SizedRequest
        return request


class _Request:
    """One request: the app's ``start_response`` (adds the header), then its body.

    Closing the body ends the request's context (resets the ID).  One
    object instead of a closure and a body wrapper: the cost per request.
    """

    __slots__ = ("body", "middleware", "request_id", "server_start", "token")

    middleware: RequestID
    request_id: str
    server_start: StartResponse
    body: Iterable[bytes]
    token: Token[str] | None

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        lower = self.middleware._lower
        size = len(lower)
        for name, _value in headers:
            if len(name) == size and name.lower() == lower:
                break
        else:
            headers = [*headers, (self.middleware.header, self.request_id)]
        return self.server_start(status, headers, exc_info)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            token = self.token
            if token is not None:
                try:
                    REQUEST_ID_VAR.reset(token)
                except (ValueError, RuntimeError):  # closed in another context than it started in
                    REQUEST_ID_VAR.set("-")


_new_request = object.__new__


class _SizedRequest(_Request):
    """A body with a length (a list): waitress sets Content-Length for one chunk."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self.body)  # type: ignore[arg-type]
