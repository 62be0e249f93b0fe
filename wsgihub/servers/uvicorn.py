"""uvicorn on the process bus: the hub as an ASGI application (``wsgihub serve --server uvicorn``).

::

    from wsgihub.servers.uvicorn import UvicornServer

    server = UvicornServer(hub.bus, hub.asgi, host="127.0.0.1", port=0)
    server.subscribe()
    hub.bus.start()          # listening; server.url -> 'http://127.0.0.1:40913'
    hub.bus.stop()           # drained: in-flight requests finished, connections closed

uvicorn runs in a thread of its own with an event loop of its own, so the
bus keeps the main thread (and the signals: uvicorn installs no handlers
outside the main thread; the bus's :class:`~wsgihub.process.plugins.SignalHandler`
turns SIGTERM into the bus's exit, which stops the server).

- ``start`` (priority 30, before the hub's own start listener): the loop
  thread starts and every ASGI mount's bridge is given its loop
  (:meth:`wsgihub.asgi.ASGIHub.bind`), so the lifespans the hub's start runs
  run where the apps' requests will; then (priority 75, after the apps are
  set up, as waitress) uvicorn starts serving on the bound socket and
  ``start`` returns once it listens.
- ``stop`` (priority 40, before the hub tears the apps down): *drains*:
  uvicorn closes the listening socket, closes idle keep-alive connections,
  lets requests in flight (ASGI tasks and WSGI requests in the thread pool
  alike) finish for up to ``drain_timeout`` seconds, then cancels the rest
  (a WSGI request already running in a thread cannot be cut; the server
  stops waiting for it).  The loop keeps running until the bus exits, because
  the hub's stop runs the ASGI mounts' lifespan shutdown on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

# uvicorn is optional (the 'uvicorn' extra): this module is imported only for --server uvicorn.
import uvicorn

from ..errors import ServeError
from ..logconfig import settle_level
from .base import DEFAULT_DRAIN_TIMEOUT, socket_to_serve
from .loop import LoopServer

if TYPE_CHECKING:
    from ..asgi import ASGIHub
    from ..bus import Bus

__all__ = ["UvicornServer"]

#: Seconds ``stop`` waits beyond the drain timeout for uvicorn's own shutdown steps.
_STOP_GRACE = 5.0


class UvicornServer(LoopServer):
    """Serve ``app`` (``hub.asgi`` or an :class:`~wsgihub.asgi.ASGIHub`) with uvicorn while the bus is started.

    ``sock`` is an already bound socket (:func:`wsgihub.servers.bind_socket`);
    without it the server binds ``host:port`` on ``start`` (port 0 picks a
    free one, kept across restarts).  ``options`` are more
    :class:`uvicorn.Config` settings (``http="h11"``, ``ws="websockets"``,
    ``forwarded_allow_ips``, ``limit_concurrency`` ...).
    """

    server_name = "uvicorn"

    def __init__(
        self,
        bus: Bus,
        app: ASGIHub | Any,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        sock: socket.socket | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(bus, app, host, port, drain_timeout=drain_timeout, options=options)
        self._sock = sock

    # -- the event loop ---------------------------------------------------------------------
    def _new_loop(self) -> asyncio.AbstractEventLoop:
        """The loop uvicorn's settings ask for (``loop="uvloop"`` ...), asyncio's by default."""
        factory = self._config().get_loop_factory()
        return factory() if factory is not None else asyncio.new_event_loop()

    def _config(self) -> Any:
        settings: dict[str, Any] = {
            "lifespan": "on",
            "log_config": None,  # wsgihub's logging stays as configured
            "access_log": False,
            "timeout_graceful_shutdown": self.drain_timeout,
            "server_header": False,
            # uvicorn's own default believes X-Forwarded-For/-Proto from 127.0.0.1:
            # forwarded headers are the front layer's (wsgihub.proxy, --forwarded-allow-ips)
            "proxy_headers": False,
        }
        settings.update(self.options)
        return uvicorn.Config(self.app, host=self.host, port=self.port, **settings)

    # -- the bus's channels --------------------------------------------------------------
    def start(self) -> None:
        """Listen and serve on the loop thread; return once uvicorn listens."""
        self.start_loop()
        with self._lock:
            if self.server is not None:
                self.bus.log(f"uvicorn already serving on {self.url}.")
                return
            sock = socket_to_serve(self._sock, self.host, self.port)
            self._sock = None  # the server owns it now (a stop closes it)
            host, port = sock.getsockname()[:2]
            self.bound = (str(host), int(port))
            self.port = int(port)
            settle_level("uvicorn.error")  # (uvicorn's trace messages: see settle_level)
            config = self._config()
            ready = threading.Event()
            server = _Server(config, ready)
            self.server = server
            assert self.loop is not None
            self._serving = asyncio.run_coroutine_threadsafe(server.run_on([sock]), self.loop)
            ready.wait()
            failure = server.failure
            if failure is not None or not server.started:
                self.server = None
                with contextlib.suppress(Exception):
                    self._serving.result(self.drain_timeout + _STOP_GRACE)
                sock.close()
                raise ServeError(f"uvicorn cannot serve on {self.url}: {failure or 'startup failed'}")
        self.bus.log(f"Serving on {self.url} (uvicorn {uvicorn.__version__}, {self._threads()})")

    # after the apps are set up (the hub's own start listener has priority 40)
    start.priority = 75  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop accepting, drain requests in flight (bounded by ``drain_timeout``), close connections."""
        with self._lock:
            server, serving = self.server, self._serving
            if server is None or serving is None:
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None
                return
            self.bus.log(f"Draining uvicorn on {self.url} (up to {self.drain_timeout:g} s).")
            server.should_exit = True
            try:
                serving.result(self.drain_timeout + _STOP_GRACE)
            except Exception:  # noqa: BLE001 - reported on the bus; the server is gone either way
                self.bus.log("uvicorn did not stop cleanly", level=30, traceback=True)
            self.server = None
            self._serving = None
        self.bus.log(f"Stopped uvicorn on {self.url}.")

    # before the hub tears the apps down (the hub's own stop listener has priority 60)
    stop.priority = 40  # type: ignore[attr-defined]

    def _threads(self) -> str:
        threads = getattr(self.app, "threads", None)
        return f"{threads} threads for WSGI mounts" if threads else "ASGI"


class _Server(uvicorn.Server):  # type: ignore[misc,unused-ignore]  # (Any where uvicorn is not installed: lint env)
    """uvicorn's ``Server`` that tells a thread when it listens (or failed to start)."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready
        self.failure: str | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()

    async def run_on(self, sockets: list[socket.socket]) -> None:
        """``serve`` (no signal handlers outside the main thread); a failed startup is recorded."""
        try:
            await self.serve(sockets=sockets)
        except SystemExit as exc:  # uvicorn exits when the lifespan startup fails
            self.failure = f"startup failed (exit {exc.code})"
        except BaseException as exc:
            self.failure = f"{type(exc).__name__}: {exc}".splitlines()[0]
            raise
        finally:
            self.ready.set()
