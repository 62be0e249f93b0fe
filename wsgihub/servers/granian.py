"""granian on the process bus: ``wsgihub serve --server granian``.

::

    from wsgihub.servers.granian import GranianServer

    server = GranianServer(hub.bus, hub.asgi, host="127.0.0.1", port=0)
    server.subscribe()
    hub.bus.start()          # listening; server.url -> 'http://127.0.0.1:40913'
    hub.bus.stop()           # drained

granian's *embedded* server (``granian.server.embed``, marked experimental by
granian) serves the hub as ASGI (:class:`wsgihub.asgi.ASGIHub`: ASGI mounts
native, WSGI mounts in its thread pool) on an event loop in a thread of its
own; granian's Rust runtime does the HTTP.  It is the only granian API that
leaves the process to the bus: granian's process and thread servers install
their own signal handlers (which works only in the main thread) and own the
lifecycle.  Why only ASGI: the embedded server refuses granian's WSGI
interface, so WSGI mounts run in ``hub.asgi``'s thread pool, not in granian's
blocking threads.

- ``start`` (priority 30): the loop thread starts and the ASGI mounts' bridges
  are bound to it; (priority 75) granian listens (``ASGINL``: no lifespan of
  its own, the bus runs the apps' lifespans) and ``start`` returns once the
  socket listens.
- ``stop`` (priority 40): granian stops accepting and lets the requests in
  flight finish; ``stop`` waits for that for at most ``drain_timeout``
  seconds.  granian's own bound (``workers_kill_timeout``) fails in embedded
  mode (its shutdown raises and skips its cleanup), so wsgihub bounds the wait
  itself: connections still busy after the drain timeout are left to granian
  and end with the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

# granian is optional: this module is imported only for --server granian.
from granian.constants import Interfaces
from granian.server.embed import Server

from ..errors import ServeError
from ..process.plugins import SimplePlugin
from .base import DEFAULT_DRAIN_TIMEOUT, check_address, format_url

if TYPE_CHECKING:
    from ..asgi import ASGIHub
    from ..bus import Bus

__all__ = ["GranianServer"]

#: Seconds ``start`` waits for granian to listen.
_START_TIMEOUT = 30.0


class GranianServer(SimplePlugin):
    """Serve ``app`` (an :class:`~wsgihub.asgi.ASGIHub`) with granian's embedded server while the bus is started.

    ``port`` 0 picks a free port (checked and released first: granian binds
    its own socket).  ``options`` are more ``granian.server.embed.Server``
    keywords (``runtime_threads``, ``http``, ``backlog`` ...).
    """

    def __init__(
        self,
        bus: Bus,
        app: ASGIHub | Any,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(bus)
        self.app = app
        self.host = host
        self.port = port
        self.drain_timeout = drain_timeout
        self.options = dict(options or {})
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.server: Any = None
        self._serving: Any = None
        self.bound: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def subscribe(self) -> None:
        """Subscribe the start, stop and exit listeners (and the early loop start)."""
        super().subscribe()
        self.bus.subscribe("start", self.start_loop, priority=30)

    def unsubscribe(self) -> None:
        """Unsubscribe every listener :meth:`subscribe` subscribed."""
        super().unsubscribe()
        self.bus.unsubscribe("start", self.start_loop)

    def start_loop(self) -> None:
        """Run the event loop in its thread (once) and bind the hub's ASGI mounts to it."""
        with self._lock:
            if self.loop is None or self.thread is None or not self.thread.is_alive():
                self.loop = asyncio.new_event_loop()
                self.thread = threading.Thread(target=self.loop.run_forever, name="wsgihub granian loop", daemon=True)
                self.thread.start()
        bind = getattr(self.app, "bind", None)
        if callable(bind):
            bind(self.loop)

    def start(self) -> None:
        """Listen and serve; return once granian's socket listens."""
        self.start_loop()
        with self._lock:
            if self.server is not None:
                self.bus.log(f"granian already serving on {self.url}.")
                return
            port = check_address(self.host, self.port) if self.port == 0 else self.port
            self.bound = (self.host, port)
            self.port = port  # a restart of the bus listens on the same port again
            settings: dict[str, Any] = {
                "interface": Interfaces.ASGINL,
                # granian's own logger into wsgihub's logging (its default writes to stdout)
                "log_dictconfig": {"loggers": {"_granian": {"handlers": [], "propagate": True}}},
            }
            settings.update(self.options)
            server = Server(self.app, address=self.host, port=port, **settings)
            ready = threading.Event()
            server.on_startup(ready.set)
            assert self.loop is not None
            serving = asyncio.run_coroutine_threadsafe(server.serve(), self.loop)
            serving.add_done_callback(lambda _future: ready.set())
            ready.wait(_START_TIMEOUT)
            if ready.is_set() and not serving.done():
                _wait_listening(self.host, port, serving)
            if serving.done() or not ready.is_set():
                error = serving.exception() if serving.done() else None
                if not serving.done():
                    self.loop.call_soon_threadsafe(server.stop)
                raise ServeError(f"granian cannot serve on {self.url}: {error or 'it did not start'}")
            self.server, self._serving = server, serving
        self.bus.log(f"Serving on {self.url} (granian, {getattr(self.app, 'threads', '?')} threads for WSGI mounts)")

    start.priority = 75  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop accepting and wait (at most ``drain_timeout``) for requests in flight."""
        with self._lock:
            server, serving, loop = self.server, self._serving, self.loop
            if server is None or serving is None or loop is None:
                return
            self.bus.log(f"Draining granian on {self.url} (up to {self.drain_timeout:g} s).")
            loop.call_soon_threadsafe(server.stop)
            try:
                serving.result(self.drain_timeout)
            except TimeoutError:
                self.bus.log(
                    f"Drain timeout: granian still has requests in flight after {self.drain_timeout:g} s; "
                    "they end with the process.",
                    level=30,
                )
            except Exception:  # noqa: BLE001 - reported on the bus; the server is gone either way
                self.bus.log("granian did not stop cleanly", level=30, traceback=True)
            self.server = self._serving = None
        self.bus.log(f"Stopped granian on {self.url}.")

    stop.priority = 40  # type: ignore[attr-defined]

    def exit(self) -> None:
        """End the event loop thread (after the hub's stop ran the ASGI lifespans' shutdown)."""
        with self._lock:
            loop, thread = self.loop, self.thread
            self.loop = self.thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5.0)
            if not thread.is_alive():
                with contextlib.suppress(RuntimeError):
                    loop.close()

    @property
    def url(self) -> str:
        """``http://host:port`` the server listens (or will listen) on."""
        host, port = self.bound if self.bound is not None else (self.host, self.port)
        return format_url(host, port)


def _wait_listening(host: str, port: int, serving: Any) -> None:
    """Wait until the port accepts connections (granian's worker listens a moment after its startup hooks)."""
    probe = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host.strip("[]"))
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline and not serving.done():
        try:
            with socket.create_connection((probe, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.01)  # no event to wait for: granian says nothing when its worker listens
