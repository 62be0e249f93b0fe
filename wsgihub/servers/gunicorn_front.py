"""Request IDs and the access log done by gunicorn's sync worker itself, without a WSGI layer.

What :mod:`wsgihub.servers.waitress_front` does in waitress's task, done in
gunicorn's sync worker: ``wsgihub serve --workers N`` (one thread each)
runs :class:`FrontSyncWorker`, and :class:`~wsgihub.servers.gunicorn.GunicornServer`
hands it the serving stack without the request-ID/access-log layer
(:attr:`wsgihub.servers.front.FrontStack.inner`).  Its
:meth:`~FrontSyncWorker.handle_request` does that layer's work where
gunicorn already works on the request:

- once the environ is built: the request's ID (the incoming header when
  well-formed, else :func:`wsgihub.requestid.new_request_id`) into
  ``environ["wsgihub.request_id"]`` and the context variable log records
  read (:data:`wsgihub.requestid.REQUEST_ID_VAR`), reset when the request ends;
- in the ``start_response`` the app gets, once gunicorn's checked the app's
  headers: the ID header appended to the response's headers unless the app
  set it (its name and value are safe by construction: gunicorn's checks of
  one more header are not needed);
- once the body is closed (also for an app that raised: status 500, the
  line written before gunicorn answers the error): the values the layer
  hands over, to the same :meth:`wsgihub.accesslog.AccessLog.finished`.

What a request no longer pays for: the layer's call, its request object, a
generator between the worker and the body with a switch per chunk, a
wrapped ``close()`` and gunicorn's checks of the added header
(``docs/benchmarks.md``, "Access log and request IDs").

:meth:`FrontSyncWorker.handle_request` is gunicorn 27.0's
``SyncWorker.handle_request`` (MIT License, Copyright (c) 2009-2024 Benoît
Chesneau, Copyright (c) 2009-2015 Paul J. Davis) with that work woven in.
:func:`unsupported` checks that the gunicorn installed is one it was
written against (the method's source unchanged from :data:`WRITTEN_FROM`);
when it is not, each worker serves the whole stack, layers included: the
same lines and headers, at the layers' cost.
"""

from __future__ import annotations

import importlib.metadata
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.sync import SyncWorker

from ..accesslog import announced_length
from ..proxy import ORIG_KEY  # where the forwarded-header layer keeps what it replaced
from ..requestid import ENVIRON_KEY, REQUEST_ID_VAR, VALID_ID, new_request_id
from ..requestid import _take as _take_id  # new_request_id's pool, a Python call less per request
from .base import copy_differs
from .front import hand_over_line, proxied_path

if TYPE_CHECKING:
    from ..accesslog import AccessLog
    from .front import FrontStack

__all__ = ["ENABLED", "WORKER_CLASS", "WRITTEN_FROM", "FrontSyncWorker", "in_worker_stack", "unsupported"]

#: ``False``: the workers serve the layers (for comparing the two; the lines and headers are the same).
ENABLED = True

#: What ``wsgihub serve`` sets gunicorn's ``worker_class`` to for one-thread workers.
WORKER_CLASS = "wsgihub.servers.gunicorn_front.FrontSyncWorker"

#: sha256 of ``inspect.getsource(SyncWorker.handle_request)`` in the gunicorn releases the
#: copy was written from (22.0 and 23.0-26.2 differ from 27.0: another copy would be needed).
WRITTEN_FROM = {"c706b9604ab86dd826389ae6261fcc7732732a80d28c0e3ef6e8bb1f564d709f": "27.0.0, 27.0.1"}

_perf = time.perf_counter
_valid = VALID_ID.fullmatch
_set_id = REQUEST_ID_VAR.set
_reset_id = REQUEST_ID_VAR.reset


def unsupported() -> str | None:
    """Why gunicorn's sync worker cannot do the work here (``None``: it can)."""
    if not ENABLED:
        return "disabled (wsgihub.servers.gunicorn_front.ENABLED is False)"
    try:
        version = importlib.metadata.version("gunicorn")
    except importlib.metadata.PackageNotFoundError:
        return "gunicorn's version is unknown"
    label = f"gunicorn {version}'s SyncWorker.handle_request"
    return copy_differs(label, SyncWorker.handle_request, WRITTEN_FROM, "gunicorn")


def in_worker_stack(stack: FrontStack) -> bool:
    """Whether a :class:`FrontSyncWorker` does ``stack``'s request-ID and access-log work itself."""
    return stack.inner is not None and unsupported() is None


class FrontSyncWorker(SyncWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's sync worker doing the request-ID and access-log work (see the module docstring).

    The application object gunicorn gives it (``self.app``) says how:
    its ``front_stack`` attribute, a :class:`~wsgihub.servers.front.FrontStack`
    whose :attr:`~wsgihub.servers.front.FrontStack.inner` is what ``load()``
    returned; without one (``None``), the worker is gunicorn's own.
    """

    #: ``(ID header's environ key, its name in lower case, its name, access log)``; ``None``: gunicorn's own.
    front: tuple[str | None, str, str, AccessLog | None] | None = None

    def load_wsgi(self) -> None:
        """gunicorn's, then what the application object says the worker does."""
        super().load_wsgi()
        stack = getattr(self.app, "front_stack", None)
        if stack is None:
            self.front = None
            return
        header = stack.request_id_header
        self.front = (
            None if header is None else "HTTP_" + header.upper().replace("-", "_"),
            "" if header is None else header.lower(),
            header or "",
            stack.access_log,
        )

    def handle_request(self, listener: Any, req: Any, client: Any, addr: Any) -> None:
        """Serve one request (gunicorn's ``SyncWorker.handle_request``, plus the layer's work)."""
        front = self.front
        if front is None:
            super().handle_request(listener, req, client, addr)
            return
        id_key, id_lower, id_header, log = front
        environ: dict[str, Any] = {}
        resp = None
        token = None
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(req, client, addr, listener.getsockname(), self.cfg)
            # Force the connection closed until someone shows
            # a buffering proxy that supports Keep-Alive to
            # the backend.
            resp.force_close()
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            # -- the request's ID (what the layer does before calling the app)
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
                request_id = None
            if log is not None:
                started = _perf()
                # the path as received (the hub moves the mount prefix in place)
                path = environ["SCRIPT_NAME"] + environ["PATH_INFO"]
            app_status: str | None = None  # the status the app last gave start_response
            written = 0  # bytes the app gave the write callable
            server_start = resp.start_response

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                nonlocal app_status
                app_status = status
                server_write = server_start(status, headers, exc_info)  # gunicorn checks the app's headers
                if request_id is not None:
                    for name, _value in headers:
                        if name.lower() == id_lower:
                            break
                    else:  # well-formed by construction: appended without gunicorn's checks
                        resp.headers.append((id_header, request_id))
                if log is None:
                    return server_write

                def write(data: bytes) -> None:
                    nonlocal written
                    server_write(data)
                    written += len(data)

                return write

            try:
                respiter = self.wsgi(environ, start_response)
            except BaseException:
                if log is not None:
                    hand_over_line(log, started, path, "500" if app_status is None else app_status, 0, request_id, environ)
                raise
            sent = 0
            file_body = False
            try:
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                    file_body = True
                else:
                    for item in respiter:
                        resp.write(item)
                        sent += len(item)
                resp.close()
            finally:
                request_time = datetime.now() - request_start
                self.log.access(resp, req, environ, request_time)
                try:
                    if hasattr(respiter, "close"):
                        respiter.close()
                finally:
                    if log is not None:
                        # a file wrapper's bytes: what it announced, as the layer counts them
                        taken = announced_length(resp.headers) if file_body else sent + written
                        if ORIG_KEY in environ:  # hand_over_line(), without its Python call
                            path = proxied_path(environ, path)
                        log.finished(started, path, app_status, taken, request_id, environ)
        except OSError:
            # pass to next try-except level
            util.reraise(*sys.exc_info())
        except (Exception, SystemExit):
            if resp and resp.headers_sent:
                # Timeout abort is SystemExit. If we already started the
                # response, writing a 500 on the same socket corrupts it.
                self.log.exception("Error handling request")
                util.close_graceful(client)
                raise StopIteration() from None
            raise
        finally:
            if token is not None:
                try:
                    _reset_id(token)
                except (ValueError, RuntimeError):  # pragma: no cover - set in this very context
                    REQUEST_ID_VAR.set("-")
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
