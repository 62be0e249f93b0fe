"""waitress on the process bus: the embedded default server.

::

    from wsgihub.servers.waitress import WaitressServer

    server = WaitressServer(hub.bus, hub, host="127.0.0.1", port=0, threads=8)
    server.subscribe()
    hub.bus.start()          # listening; server.url -> 'http://127.0.0.1:40913'
    hub.bus.stop()           # drained: in-flight requests finished, connections closed

``start`` creates the server (``waitress.server.create_server``) and runs its
socket loop in a thread.  ``stop`` *drains*: the listening socket is closed
at once (new connections are refused), requests already received run to
their end, idle keep-alive connections are closed, and busy ones are closed
as soon as their response is flushed -- all bounded by ``drain_timeout``,
after which the remaining connections are cut.  Then the worker threads end
and ``stop`` returns.  waitress's own ``close()`` would cut in-flight
requests instead.

Given a :class:`~wsgihub.servers.front.FrontStack` instead of an app
(``WaitressServer(bus, front_stack(hub, options))``, what ``wsgihub serve``
does), the server does the request-ID and access-log work in waitress's own
task instead of a WSGI layer (:mod:`wsgihub.servers.waitress_front`): the
same lines and headers, at a fraction of the cost; where the installed
waitress is not one that module knows, or ``in_server=False``, it serves
the stack's layers.

Every change to the socket map happens in the loop's own thread (the loop
checks a flag after each poll; the stopping thread only pulls waitress's
trigger to wake it), so no lock is needed around waitress's channels.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.server import create_server

from ..errors import ServeError
from ..process.plugins import SimplePlugin
from . import waitress_front
from .base import DEFAULT_DRAIN_TIMEOUT, DEFAULT_THREADS, format_url, socket_to_serve
from .front import FrontStack

if TYPE_CHECKING:
    from waitress.server import BaseWSGIServer

    from ..bus import Bus
    from ..types import WSGIApplication

__all__ = ["DEFAULT_DRAIN_TIMEOUT", "WaitressServer"]

#: Seconds between two drain checks while stopping.
_DRAIN_POLL = 0.05


class WaitressServer(SimplePlugin):
    """Serve ``app`` with waitress while the bus is started.

    ``sock`` is an already bound socket to serve on (see
    :func:`wsgihub.servers.bind_socket`); without it the server binds
    ``host:port`` itself on ``start`` (port 0 picks a free port, kept across
    restarts of the bus).  ``threads`` is waitress's worker thread count;
    ``options`` are more :class:`waitress.adjustments.Adjustments`
    (``url_scheme``, ``trusted_proxy``, ``channel_timeout`` ...).

    ``app`` may be a :class:`~wsgihub.servers.front.FrontStack`: then the
    request-ID and access-log work is done by waitress's own task (see the
    module docstring) unless ``in_server`` is false or the installed
    waitress cannot (:func:`wsgihub.servers.waitress_front.unsupported`);
    :attr:`in_server_work` tells which once started.
    """

    def __init__(
        self,
        bus: Bus,
        app: WSGIApplication | FrontStack,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        threads: int = DEFAULT_THREADS,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        sock: socket.socket | None = None,
        options: Mapping[str, Any] | None = None,
        in_server: bool = True,
    ) -> None:
        super().__init__(bus)
        #: The stack whose request-ID/access-log layer the server may do itself (``None``: an app).
        self.stack = app if isinstance(app, FrontStack) else None
        self.app: WSGIApplication = app.app if isinstance(app, FrontStack) else app
        self.in_server = in_server
        #: Whether the running server does the request-ID/access-log work in its task.
        self.in_server_work = False
        self.host = host
        self.port = port
        self.threads = threads
        self.drain_timeout = drain_timeout
        self.options = dict(options or {})
        self._sock = sock
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        #: ``(host, port)`` actually listened on, once started.
        self.bound: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._drained = threading.Event()
        self._refusing = threading.Event()
        self._cut = 0

    # -- the bus's channels --------------------------------------------------------------
    def start(self) -> None:
        """Listen and serve in a thread; ``bound`` and ``url`` tell where."""
        with self._lock:
            if self.server is not None:
                self.bus.log(f"waitress already serving on {self.url}.")
                return
            sock = socket_to_serve(self._sock, self.host, self.port)
            self._sock = None  # the server owns it now (a stop closes it)
            channel_class = self._channel_class()
            try:
                server = create_server(
                    self.app if channel_class is None else self.stack.inner,  # type: ignore[union-attr]
                    sockets=[sock],
                    threads=self.threads,
                    **self.options,
                )
            except (ValueError, OSError) as exc:
                sock.close()
                raise ServeError(
                    f"waitress cannot serve on {format_url(self.host, self.port)}: {exc}"
                ) from exc
            if channel_class is not None:
                # accepted connections get the channels whose tasks do the layer's work
                server.channel_class = channel_class
            self.in_server_work = channel_class is not None
            host, port = str(server.effective_host), int(server.effective_port)
            self.bound = (host, port)
            self.port = port  # a restart of the bus listens on the same port again
            self.server = server
            self._deadline = None
            self._cut = 0
            self._drained.clear()
            self._refusing.clear()
            self.thread = threading.Thread(
                target=self._serve, name=f"waitress {self.url}", daemon=True
            )
            self.thread.start()
        self.bus.log(f"Serving on {self.url} (waitress, {self.threads} threads)")

    # after the apps are set up (the hub's own start listener has priority 40)
    start.priority = 75  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop accepting, drain in-flight requests (bounded), close every connection."""
        with self._lock:
            server, thread = self.server, self.thread
            if server is None or thread is None:
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
                return
            self._deadline = time.monotonic() + self.drain_timeout
            self.bus.log(f"Draining waitress on {self.url} (up to {self.drain_timeout:g} s).")
            if thread.is_alive():
                server.pull_trigger()
                thread.join(self.drain_timeout + 5.0)
            if thread.is_alive():  # pragma: no cover - the loop thread is wedged
                self.bus.log("waitress socket loop did not end; leaving it behind.", level=30)
            # Worker threads end (none is busy unless the drain timed out), then
            # the trigger goes: no thread is left that could pull it.
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=1.0)
            wasyncore.close_all(server._map)
            self.server = None
            self.thread = None
        if self._cut:
            self.bus.log(
                f"Drain timeout: cut {self._cut} connection(s) with requests in flight.", level=30
            )
        self.bus.log(f"Stopped waitress on {self.url}.")

    # before the hub tears the apps down (the hub's own stop listener has priority 60)
    stop.priority = 40  # type: ignore[attr-defined]

    def _channel_class(self) -> type[Any] | None:
        """The channel class doing the request-ID/access-log work (``None``: serve the layers)."""
        stack = self.stack
        if not self.in_server or stack is None or stack.inner is None:
            return None
        reason = waitress_front.unsupported(stack.request_id_header)
        if reason is not None:
            self.bus.log(
                f"waitress serves the request-ID/access-log layers (not its own task): {reason}"
            )
            return None
        return waitress_front.channel_class(stack.request_id_header, stack.access_log)

    # -- information ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://host:port`` the server listens (or will listen) on."""
        host, port = self.bound if self.bound is not None else (self.host, self.port)
        return format_url(host, port, str(self.options.get("url_scheme", "http")))

    def wait_drained(self, timeout: float | None = None) -> bool:
        """Wait until a stop finished draining (for tests and tooling)."""
        return self._drained.wait(timeout)

    def wait_refusing(self, timeout: float | None = None) -> bool:
        """Wait until a stop closed the listening socket: new connections are refused.

        In-flight requests may still be running (see :meth:`wait_drained`).
        For tests and tooling.
        """
        return self._refusing.wait(timeout)

    # -- the socket loop (its own thread) ----------------------------------------------------
    def _serve(self) -> None:
        server = self.server
        assert server is not None
        socket_map = server._map
        adj = server.adj
        poll = wasyncore.poll2 if adj.asyncore_use_poll else wasyncore.poll
        try:
            while socket_map:
                draining = self._deadline is not None
                poll(_DRAIN_POLL if draining else adj.asyncore_loop_timeout, socket_map)
                if self._deadline is not None and self._drain_step(server):
                    break
        except Exception:  # noqa: BLE001 - reported on the bus, then the loop ends
            self.bus.log("waitress socket loop failed", level=40, traceback=True)
            for channel in list(server.active_channels.values()):
                channel.handle_close()
        finally:
            self._refusing.set()
            self._drained.set()

    def _drain_step(self, server: BaseWSGIServer) -> bool:
        """One step of a drain, in the loop thread; True once no connection is left."""
        channels = list(server.active_channels.values())
        if server.socket is not None:
            # Stop accepting: the listening socket goes, new connections are refused.
            server.accepting = False
            wasyncore.dispatcher.close(server)
            self._refusing.set()
            busy = sum(1 for channel in channels if channel.requests)
            self.bus.log(
                f"Stopped accepting on {self.url}; {busy} connection(s) with requests in flight."
            )
        assert self._deadline is not None
        if time.monotonic() >= self._deadline:
            self._cut = sum(1 for channel in channels if channel.requests)
            for channel in channels:
                channel.handle_close()
            channels = []
        else:
            for channel in channels:
                # No request queued, running or half received: close once flushed.
                # (A channel with requests must not: it would be closed before the
                # running task wrote its response.)
                if not channel.requests and channel.request is None:
                    channel.close_when_flushed = True
        return not channels and not server.active_channels
