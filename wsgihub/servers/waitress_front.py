"""Request IDs and the access log done by waitress's own task, without a WSGI layer.

::

    from wsgihub.servers.front import front_stack
    from wsgihub.servers.waitress import WaitressServer

    server = WaitressServer(hub.bus, front_stack(hub, options), port=0)

:class:`~wsgihub.servers.waitress.WaitressServer`, given a
:class:`~wsgihub.servers.front.FrontStack`, serves the stack without the
request-ID/access-log layer and gives waitress a channel class
(:func:`channel_class`) whose task (:class:`FrontTask`, a
``waitress.task.WSGITask``) does that layer's work where waitress already
works on the request:

- when the environ is built: the request's ID (the incoming header when
  well-formed, :data:`wsgihub.requestid.VALID_ID`, else
  :func:`wsgihub.requestid.new_request_id`) into
  ``environ["wsgihub.request_id"]`` and the context variable log records read
  (:data:`wsgihub.requestid.REQUEST_ID_VAR`), reset when the request ends;
- in waitress's ``start_response``, which already looks at every header:
  whether the app set the ID header itself; if not, waitress's
  ``build_response_header`` adds it, with its name already in the form that
  function gives every header it is handed (``X-Request-Id``): a response
  header costs waitress about 9,000 CPU instructions there otherwise
  (callgrind), three times all else the request ID costs;
- when the server closed the body (also when the client went away
  mid-response, also for an app that raised: status 500): the same values
  the layer hands over, to the same :meth:`wsgihub.accesslog.AccessLog.finished`,
  so the line is the one the layer writes.

What a request no longer pays for: the layer's call, its request object
(``start_response`` wrapper, body wrapper, ``close()``), a generator between
the server and the body with a switch per chunk, and the server's checks of
the header the layer added (``docs/benchmarks.md``, "Access log and request
IDs").

:meth:`FrontTask.execute` and :meth:`FrontTask.build_response_header` are
waitress 3.0's (Zope Public License 2.1, Copyright (c) 2001, 2002 Zope
Foundation and Contributors) with that work woven in; anything else of waitress's is used
as it is.  :func:`unsupported` checks that the waitress installed is one this
was written against (3.x, with the internals used here, and the source of
those two methods unchanged from the releases the copy was made from:
:data:`WRITTEN_FROM`); when it is not, the server serves the whole stack,
layers included: the same lines, at the layers' cost, and says why in one
line on the bus.  A waitress release that fixes a bug in either method is
so never bypassed by the copy: the copy is brought up to date (and its
fingerprint added) before the task is used with it.  Setting :data:`ENABLED`
to ``False`` does the same (the benchmarks compare the two).
"""

from __future__ import annotations

import importlib.metadata
import time
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import WSGITask, hop_by_hop
from waitress.utilities import build_http_date

from ..accesslog import announced_length
from ..proxy import ORIG_KEY  # where the forwarded-header layer keeps what it replaced
from ..requestid import ENVIRON_KEY, REQUEST_ID_VAR, VALID_ID, new_request_id
from ..requestid import _take as _take_id  # new_request_id's pool, a Python call less per request
from .base import copy_differs, source_fingerprint
from .front import hand_over_line, proxied_path

if TYPE_CHECKING:
    from ..accesslog import AccessLog

__all__ = [
    "ENABLED",
    "WRITTEN_FROM",
    "FrontTask",
    "channel_class",
    "source_fingerprint",
    "unsupported",
]

#: ``False``: every :class:`~wsgihub.servers.waitress.WaitressServer` serves the layers
#: (for comparing the two; the lines and headers are the same either way).
ENABLED = True

_perf = time.perf_counter
_valid = VALID_ID.fullmatch
_set_id = REQUEST_ID_VAR.set
_reset_id = REQUEST_ID_VAR.reset
#: Response headers waitress's ``build_response_header`` reads from the app's: not an ID header here.
_WAITRESS_OWN = ("content-length", "date", "server", "via", "connection", "transfer-encoding")

#: sha256 of ``inspect.getsource`` of the ``WSGITask`` methods :class:`FrontTask` copies, in the
#: waitress releases the copy was written from.  The copy is 3.0.2's ``execute`` (3.0.0 and 3.0.1
#: differ only in checking ``status.__class__ is not str`` where 3.0.2 has ``isinstance``: the copy
#: accepts what either accepts) and 3.0.0-3.0.2's ``build_response_header`` (the same in all three).
WRITTEN_FROM: dict[str, dict[str, str]] = {
    "execute": {
        "207afc60fcf3181fa30685fd4eadf253300c8183f7cae946025b1685b388a66a": "3.0.2",
        "5b873692794af7e52a1539ed4bfa7f4e243e93627d146815477a902ef35246d8": "3.0.0, 3.0.1",
    },
    "build_response_header": {
        "2cf70b88816fabc13406703dd8f963905601388438ee866c715a6d0ea9792063": "3.0.0-3.0.2",
    },
}
def _changed_source(version: str) -> str | None:
    """Why the installed ``WSGITask.execute``/``build_response_header`` are not the copied ones.

    Read lazily, the first time a server asks (:func:`~wsgihub.servers.base.source_fingerprint`
    reads each function's source once per process; a patched method is a new function).
    """
    functions = (WSGITask.execute, WSGITask.build_response_header)
    for function, (name, known) in zip(functions, WRITTEN_FROM.items(), strict=True):
        reason = copy_differs(f"waitress {version}'s WSGITask.{name}", function, known, "waitress")
        if reason is not None:
            return reason
    return None


def unsupported(request_id_header: str | None = None) -> str | None:
    """Why waitress's own task cannot do the work here (``None``: it can).

    :meth:`FrontTask.execute` is written against waitress 3's ``WSGITask``:
    another major version, one without the internals it uses, or one whose
    ``WSGITask.execute`` or ``build_response_header`` source differs from
    the releases the copy was made from (:data:`WRITTEN_FROM`: a fix there
    must not be bypassed by the copy) gets the layers instead.  So does an
    ID header waitress refuses from an app (hop-by-hop, ``Content-Length``):
    the layer's header makes waitress fail the request as it always did.
    """
    if request_id_header is not None and request_id_header.lower() in {*hop_by_hop, *_WAITRESS_OWN}:
        return f"the request-ID header {request_id_header} is one waitress refuses or sets itself"
    if not ENABLED:
        return "disabled (wsgihub.servers.waitress_front.ENABLED is False)"
    try:
        version = importlib.metadata.version("waitress")
    except importlib.metadata.PackageNotFoundError:
        return "waitress's version is unknown"
    if version.split(".")[0] != "3":
        return f"waitress {version} (written against waitress 3)"
    needed = {
        WSGITask: (
            "get_environment",
            "build_response_header",
            "write",
            "remove_content_length_header",
        ),
        ReadOnlyFileBasedBuffer: ("prepare", "close"),
        HTTPChannel: ("task_class", "write_soon"),
        BaseWSGIServer: ("channel_class",),
    }
    for owner, names in needed.items():
        for name in names:
            if not hasattr(owner, name):
                return f"waitress {version} has no {owner.__name__}.{name}"
    if HTTPChannel.task_class is not WSGITask or BaseWSGIServer.channel_class is not HTTPChannel:
        return f"waitress {version} uses other task or channel classes"
    return _changed_source(version)


def channel_class(request_id_header: str | None, access_log: AccessLog | None) -> type[HTTPChannel]:
    """A waitress channel class whose tasks do the request-ID and access-log work.

    ``request_id_header`` is the header read and set (``None``: no request
    IDs); ``access_log`` the access log handed each request's line
    (``None``: none).  Give it to the server as its ``channel_class``.
    """
    attributes: dict[str, Any] = {"front": (None, "", access_log)}
    if request_id_header is not None:
        # as waitress's build_response_header writes every header name
        id_header = "-".join([part.capitalize() for part in request_id_header.split("-")])
        attributes.update(
            front=("HTTP_" + request_id_header.upper().replace("-", "_"), request_id_header.lower(), access_log),
            id_parts=(id_header, (id_header,), f"{id_header}: "),
        )
    task = type("FrontTask", (FrontTask,), attributes)
    return type("FrontChannel", (HTTPChannel,), {"task_class": task})


class FrontTask(WSGITask):  # type: ignore[misc]  # waitress is untyped
    """waitress's WSGI task doing the request-ID and access-log work (see the module docstring).

    The class attributes are set on the subclass :func:`channel_class` makes.
    """

    #: ``(the ID header's environ key, its name in lower case, the access log)``: the key
    #: ``HTTP_X_REQUEST_ID`` (``None``: no request IDs), the name as the app's headers are
    #: compared with it, where the lines go (``None``: no access log).  One tuple, not three
    #: attributes: a class attribute read through the task costs a few hundred CPU
    #: instructions a time.
    front: tuple[str | None, str, AccessLog | None] = (None, "", None)
    #: ``(name, (name,), line)``: the ID header's name as waitress writes it (``X-Request-Id``
    #: for ``X-Request-ID``); ``(name,)``, sorted among the response's ``(name, value)`` pairs
    #: as the name is; the start of its line in the response's head (``X-Request-Id: ``).
    id_parts: tuple[str, tuple[str], str] = ("", ("",), "")
    #: The status the app last gave ``start_response`` (before waitress checked it).
    app_status: str | None = None
    #: Bytes the app gave the ``write`` callable ``start_response`` returns.
    written: int = 0
    #: The ID :meth:`build_response_header` adds (``None``: none, or the app set the header).
    missing_id: str | None = None
    # waitress's own, declared for the type checker
    complete: bool
    wrote_header: bool
    response_headers: list[tuple[str, str]]

    def counted_write(self, data: bytes) -> Any:
        """The ``write`` callable of PEP 3333, counting what it is given (for the line's bytes)."""
        result = self.write(data)
        self.written += len(data)
        return result

    def build_response_header(self) -> bytes:
        """The response's head (waitress's own), with the request's ID header unless the app set one.

        The app's headers are normalized as waitress does (``x-request-id``
        -> ``X-Request-Id``); the ID header is already in that form, and its
        line goes where waitress's sort puts it, made without waitress's
        ``%`` formatting (a sort key call and a format less, about 1,500 CPU
        instructions): the bytes are the ones waitress writes when a layer
        adds the header, and :attr:`response_headers` holds it where
        waitress's list does (after the app's headers).
        """
        version = self.version
        # Figure out whether the connection should be closed.
        connection = self.request.headers.get("CONNECTION", "").lower()
        response_headers = []
        content_length_header = None
        date_header = None
        server_header = None

        for headername, headerval in self.response_headers:
            headername = "-".join([x.capitalize() for x in headername.split("-")])

            if headername == "Content-Length":
                if self.has_body:
                    content_length_header = headerval
                else:
                    continue  # pragma: no cover

            if headername == "Date":
                date_header = headerval

            if headername == "Server":
                server_header = headerval

            # replace with properly capitalized version
            response_headers.append((headername, headerval))

        # the ID header goes in after the app's headers (below, once the others are sorted)
        app_headers = len(response_headers)

        # Overwrite the response headers we have with normalized ones
        self.response_headers = response_headers

        if content_length_header is None and self.content_length is not None and self.has_body:
            content_length_header = str(self.content_length)
            self.response_headers.append(("Content-Length", content_length_header))

        if version == "1.0":
            if connection == "keep-alive":
                if not content_length_header:
                    self.set_close_on_finish()
                else:
                    self.response_headers.append(("Connection", "Keep-Alive"))
            else:
                self.set_close_on_finish()

        elif version == "1.1":
            if connection == "close":
                self.set_close_on_finish()

            if not content_length_header:
                # RFC 7230: MUST NOT send Transfer-Encoding or Content-Length
                # for any response with a status code of 1xx, 204 or 304.

                if self.has_body:
                    self.response_headers.append(("Transfer-Encoding", "chunked"))
                    self.chunked_response = True

                if not self.close_on_finish:
                    self.set_close_on_finish()

            # under HTTP 1.1 keep-alive is default, no need to set the header
        else:
            raise AssertionError("neither HTTP/1.0 or HTTP/1.1")

        # Set the Server and Date field, if not yet specified. This is needed
        # if the server is used as a proxy.
        ident = self.channel.server.adj.ident

        if not server_header:
            if ident:
                self.response_headers.append(("Server", ident))
        else:
            self.response_headers.append(("Via", ident or "waitress"))

        if not date_header:
            self.response_headers.append(("Date", build_http_date(self.start_time)))

        first_line = f"HTTP/{self.version} {self.status}"
        # NB: sorting headers needs to preserve same-named-header order
        # as per RFC 2616 section 4.2; thus the key=lambda x: x[0] here;
        # rely on stable sort to keep relative position of same-named headers
        ordered = sorted(self.response_headers, key=lambda x: x[0])
        next_lines = ["%s: %s" % hv for hv in ordered]  # noqa: UP031
        missing_id = self.missing_id
        if missing_id is not None:
            # where the stable sort puts it: no other header has its name (the app
            # set none, waitress's own are refused as ID headers: unsupported()), so
            # the 1-tuple (name,) falls where the name does among the (name, value)
            # pairs (no key function: ~500 CPU instructions less)
            id_header, id_place, id_line = self.id_parts
            next_lines.insert(bisect_right(ordered, id_place), id_line + missing_id)
            response_headers.insert(app_headers, (id_header, missing_id))
        lines = [first_line, *next_lines]
        res = "%s\r\n\r\n" % "\r\n".join(lines)  # noqa: UP031 - waitress's

        return res.encode("latin-1")

    def execute(self) -> None:
        """Run the app for the request (waitress's ``WSGITask.execute``, plus the layer's work)."""
        environ = self.get_environment()
        # -- the request's ID (what RequestID does before calling the app)
        id_key, id_lower, log = self.front
        if id_key is not None:
            request_id = environ.get(id_key)
            if request_id is None or _valid(request_id) is None:
                try:
                    request_id = _take_id()
                except IndexError:  # none made ahead: new_request_id makes more
                    request_id = new_request_id()
            environ[ENVIRON_KEY] = request_id
            token = _set_id(request_id)
        else:
            request_id = token = None
        if log is not None:
            started = _perf()
            # the path as received (the hub moves the mount prefix in place)
            path = environ["SCRIPT_NAME"] + environ["PATH_INFO"]

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            self.app_status = status
            if self.complete and not exc_info:
                raise AssertionError(
                    "start_response called a second time without providing exc_info."
                )
            if exc_info:
                try:
                    if self.wrote_header:
                        # higher levels will catch and handle raised exception:
                        # 1. "service" method in task.py
                        # 2. "service" method in channel.py
                        # 3. "handler_thread" method in task.py
                        raise exc_info[1]
                    # As per WSGI spec existing headers must be cleared
                    self.response_headers = []
                finally:
                    exc_info = None

            self.complete = True

            if not isinstance(status, str):
                raise AssertionError(f"status {status} is not a string")  # noqa: TRY004 - as waitress does
            if "\n" in status or "\r" in status:
                raise ValueError("carriage return/line feed character present in status")

            self.status = status

            # Prepare the headers for output
            has_id = False
            for k, v in headers:
                if not isinstance(k, str):
                    raise AssertionError(f"Header name {k!r} is not a string in {(k, v)!r}")  # noqa: TRY004 - waitress's
                if not isinstance(v, str):
                    raise AssertionError(f"Header value {v!r} is not a string in {(k, v)!r}")  # noqa: TRY004 - waitress's

                if "\n" in v or "\r" in v:
                    raise ValueError("carriage return/line feed character present in header value")
                if "\n" in k or "\r" in k:
                    raise ValueError("carriage return/line feed character present in header name")

                kl = k.lower()
                if kl == "content-length":
                    self.content_length = int(v)
                elif kl in hop_by_hop:
                    raise AssertionError(
                        f'{k} is a "hop-by-hop" header; it cannot be used by a WSGI application (see PEP 3333)'
                    )
                elif kl == id_lower:
                    has_id = True

            self.response_headers.extend(headers)
            # the header goes in with the others in build_response_header
            self.missing_id = None if has_id else request_id

            # Return a method used to write the response data.
            return self.counted_write if log is not None else self.write

        sent = 0
        file_body = False
        try:
            # Call the application to handle the request and write a response
            try:
                app_iter = self.channel.server.application(environ, start_response)
            except BaseException:
                if log is not None:
                    status = self.app_status
                    hand_over_line(
                        log,
                        started,
                        path,
                        "500" if status is None else status,
                        0,
                        request_id,
                        environ,
                    )
                raise

            can_close_app_iter = True
            try:
                if log is not None and isinstance(app_iter, ReadOnlyFileBasedBuffer):
                    # waitress's wsgi.file_wrapper, which it sends itself (below): as the
                    # layer, the bytes it announced and the line when the server closes it
                    file_body = True
                    self._log_on_close(app_iter, log, started, path, request_id, environ)

                if isinstance(app_iter, ReadOnlyFileBasedBuffer):
                    cl = self.content_length
                    size = app_iter.prepare(cl)
                    if size:
                        if cl != size:
                            if cl is not None:
                                self.remove_content_length_header()
                            self.content_length = size
                        self.write(b"")  # generate headers
                        # if the write_soon below succeeds then the channel will
                        # take over closing the underlying file via the channel's
                        # _flush_some or handle_close so we intentionally avoid
                        # calling close in the finally block
                        self.channel.write_soon(app_iter)
                        can_close_app_iter = False
                        return

                first_chunk_len = None
                for chunk in app_iter:
                    if first_chunk_len is None:
                        first_chunk_len = len(chunk)
                        # Set a Content-Length header if one is not supplied.
                        # start_response may not have been called until first
                        # iteration as per PEP, so we must reinterrogate
                        # self.content_length here
                        if self.content_length is None:
                            app_iter_len = None
                            if hasattr(app_iter, "__len__"):
                                app_iter_len = len(app_iter)
                            if app_iter_len == 1:
                                self.content_length = first_chunk_len
                    # transmit headers only after first iteration of the iterable
                    # that returns a non-empty bytestring (PEP 3333)
                    if chunk:
                        self.write(chunk)
                    # counted once written, as the layer counts what the server took
                    sent += len(chunk)

                cl = self.content_length
                if (
                    cl is not None
                    and self.content_bytes_written != cl
                    and self.request.command != "HEAD"
                ):
                    # close the connection so the client isn't sitting around
                    # waiting for more data when there are too few bytes
                    # to service content-length
                    self.set_close_on_finish()
                    self.logger.warning(
                        "application returned too few bytes (%s) for specified Content-Length (%s) via app_iter",
                        self.content_bytes_written,
                        cl,
                    )
            finally:
                try:
                    if can_close_app_iter and hasattr(app_iter, "close"):
                        app_iter.close()
                finally:
                    if log is not None and not file_body:
                        if ORIG_KEY in environ:
                            path = proxied_path(environ, path)
                        log.finished(
                            started, path, self.app_status, sent + self.written, request_id, environ
                        )
        finally:
            if token is not None:
                try:
                    _reset_id(token)
                except (ValueError, RuntimeError):  # pragma: no cover - set in this very context
                    REQUEST_ID_VAR.set("-")

    def _log_on_close(
        self,
        body: Any,
        log: AccessLog,
        started: float,
        path: str,
        request_id: str | None,
        environ: dict[str, Any],
    ) -> None:
        """Hand over the line of a ``wsgi.file_wrapper`` body when the server closes it (rare)."""
        original = getattr(body, "close", None)
        sent = announced_length(self.response_headers)

        def close() -> None:
            try:
                if original is not None:
                    original()
            finally:
                body.close = original  # once
                hand_over_line(log, started, path, self.app_status, sent, request_id, environ)

        body.close = close
