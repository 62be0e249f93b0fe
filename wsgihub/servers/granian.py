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
import socket
import threading
import time
from typing import Any

# granian is optional: this module is imported only for --server granian.
from granian.constants import Interfaces
from granian.server.embed import Server

from ..errors import ServeError
from .base import check_address
from .loop import LoopServer

__all__ = ["GranianServer"]

#: Seconds ``start`` waits for granian to listen.
_START_TIMEOUT = 30.0


class GranianServer(LoopServer):
    """Serve ``app`` (an :class:`~wsgihub.asgi.ASGIHub`) with granian's embedded server while the bus is started.

    ``port`` 0 picks a free port (checked and released first: granian binds
    its own socket).  ``options`` are more ``granian.server.embed.Server``
    keywords (``runtime_threads``, ``http``, ``backlog`` ...).
    """

    server_name = "granian"

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
