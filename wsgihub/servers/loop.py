"""The event-loop thread both ASGI servers (uvicorn, granian) run on, as one bus plugin base.

:class:`LoopServer` holds what :class:`~wsgihub.servers.uvicorn.UvicornServer`
and :class:`~wsgihub.servers.granian.GranianServer` do alike, so that the
loop's lifecycle is written once:

- ``start`` (priority 30, before the hub's own start listener):
  :meth:`LoopServer.start_loop` runs an event loop in a thread of its own and
  binds the hub's ASGI mounts to it (:meth:`wsgihub.asgi.ASGIHub.bind`), so the
  lifespans the hub's start runs run where the apps' requests will;
- ``exit``: the loop thread ends, after the hub's stop ran the ASGI mounts'
  lifespan shutdown on it.

The subclass adds the server: its ``start`` (priority 75) and ``stop``
(priority 40) listeners.  This module imports neither uvicorn nor granian
(both optional): each server's module imports its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..process.plugins import SimplePlugin
from .base import DEFAULT_DRAIN_TIMEOUT, format_url

if TYPE_CHECKING:
    from ..asgi import ASGIHub
    from ..bus import Bus

__all__ = ["LoopServer"]

#: Seconds ``exit`` waits for the loop thread to end.
_LOOP_JOIN_TIMEOUT = 5.0


class LoopServer(SimplePlugin):
    """A bus plugin serving ``app`` (``hub.asgi``) from an event loop in a thread of its own.

    Subclasses set :attr:`server_name` and add the ``start`` and ``stop``
    listeners that run the server on :attr:`loop`; they may override
    :meth:`_new_loop` (uvicorn uses its configured loop factory).
    """

    #: The server's name in the loop thread's name (``wsgihub uvicorn loop``).
    server_name = "asgi"

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
        self._serving: Any = None  # concurrent.futures.Future of the server's run
        #: ``(host, port)`` actually listened on, once started.
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

    # -- the event loop ---------------------------------------------------------------------
    def _new_loop(self) -> asyncio.AbstractEventLoop:
        """A new event loop for the loop thread (asyncio's default)."""
        return asyncio.new_event_loop()

    def start_loop(self) -> None:
        """Run the event loop in its thread (once) and bind the hub's ASGI mounts to it."""
        with self._lock:
            if self.loop is None or self.thread is None or not self.thread.is_alive():
                loop = self._new_loop()
                self.loop = loop
                self.thread = threading.Thread(
                    target=loop.run_forever, name=f"wsgihub {self.server_name} loop", daemon=True
                )
                self.thread.start()
        bind = getattr(self.app, "bind", None)
        if callable(bind):
            bind(self.loop)

    def exit(self) -> None:
        """End the event loop thread (after the hub's stop ran the ASGI lifespans' shutdown)."""
        with self._lock:
            loop, thread = self.loop, self.thread
            self.loop = self.thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_LOOP_JOIN_TIMEOUT)
            if not thread.is_alive():
                with contextlib.suppress(RuntimeError):
                    loop.close()

    # -- information ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://host:port`` the server listens (or will listen) on."""
        host, port = self.bound if self.bound is not None else (self.host, self.port)
        return format_url(host, port)
