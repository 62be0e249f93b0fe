"""uvicorn in gunicorn's workers: ``wsgihub serve --server uvicorn --workers N``.

::

    wsgihub serve site.ini --server uvicorn --workers 2

gunicorn's master (:class:`~wsgihub.servers.gunicorn.GunicornServer`: the
site probed in a throw-away child, ``Serving on``, SIGHUP starts fresh
workers, SIGTERM drains them) with :class:`HubWorker` as its worker class:
uvicorn's own gunicorn worker (the ``uvicorn-worker`` distribution, the
successor of the deprecated ``uvicorn.workers``) serving ``hub.asgi``
(:class:`~wsgihub.asgi.ASGIHub`: ASGI mounts native on the worker's event
loop, WSGI mounts in a pool of ``--threads`` threads, the front layers on
the WSGI side, as under ``--server uvicorn`` in one process).

What each worker does differently from gunicorn's sync workers, and why:

- **The bus starts on the worker's event loop.**  The hub's start runs the
  ASGI mounts' lifespans, which must run on the loop their requests will
  run on; that loop only exists once the worker runs.  So
  ``post_worker_init`` leaves the bus alone for this worker (it sees
  :attr:`HubWorker.starts_bus`), and the worker binds the mounts to its loop,
  then starts the bus in a thread (start listeners block; the lifespans need
  the loop free) before uvicorn accepts.  A failing start listener is one
  line on stderr and gunicorn's worker boot error, as for sync workers.
- **SIGTERM (and SIGINT) drain.**  uvicorn's own handlers would re-raise
  the signal after the drain with its default action, killing the worker
  before gunicorn's ``worker_exit``; here the first signal announces the
  drain on the bus (the health path answers 503), keeps accepting for
  ``--drain-delay`` seconds, then has uvicorn stop accepting and let the
  requests in flight finish for up to ``--drain-timeout`` seconds.  Then the bus stops (the ASGI lifespans' shutdown,
  on the loop) and exits, and the worker ends normally.  A second SIGTERM
  (a stop that signals the whole process group, then the master's own) does
  not cut the drain; SIGINT again (Ctrl-C twice) or SIGQUIT stops at once.
- **What the site made at startup is left out of garbage collection**
  (``gc.freeze()`` once the bus started): a full collection walked every
  object Django, Flask and Pyramid made at import, 60-170 ms each time,
  every few seconds under load, with every request on the worker waiting.
- **New connections go to the worker holding the fewest.**  The workers
  share gunicorn's listening socket; uvicorn's loop accepts every pending
  connection at each wake-up, so a client opening its keep-alive connections
  at once (a proxy, a load balancer, wrk) mostly ended on one worker: 16
  connections split 16/0, 15/1 or 14/2 in half the runs measured, one core
  then idle while the other queued every request (the p99 followed).  Here
  each worker accepts one connection at a time and, while it holds more open
  connections than another live worker, waits 1 ms before taking the next,
  up to 20 times (a sibling busy or stuck delays a connection by at most
  20 ms); the counts are in a small table of memory the master shares with
  its workers (:class:`_Loads`).

This module is imported only for that server (uvicorn, uvicorn-worker and
gunicorn are optional: the ``uvicorn`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, ClassVar

# uvicorn-worker first: without the 'uvicorn' extra, importing this module fails naming it
from uvicorn_worker import UvicornWorker  # isort: skip

import a2wsgi  # noqa: F401 - ASGIHub needs it: missing, the master says so before any worker starts
from gunicorn.arbiter import Arbiter
from uvicorn.server import Server

from ..asgi import ASGIHub
from ..health import announce_drain
from .base import (
    DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_THREADS,
    describe_start_failure,
    exit_after_failed_start,
    freeze_startup_objects,
)
from .front import front_paths

if TYPE_CHECKING:
    from ..bus import Bus
    from ..hub import Hub

__all__ = ["WORKER_CLASS", "HubWorker"]

#: What ``wsgihub serve`` sets gunicorn's ``worker_class`` to for ``--server uvicorn``.
WORKER_CLASS = f"{__name__}.HubWorker"


class HubWorker(UvicornWorker):  # type: ignore[misc]
    """A gunicorn worker serving the site's hub as ASGI with uvicorn (see the module docs).

    The worker's application (``self.app``) is a
    :class:`~wsgihub.servers.gunicorn.GunicornServer`: its ``load()`` built
    this worker's hub inside the front layers; the worker serves that as
    ``hub.asgi`` with ``--threads`` threads (default: as under ``--server uvicorn`` in one process) for WSGI mounts.
    """

    #: Tells ``GunicornServer``'s ``post_worker_init`` that this worker starts
    #: and stops its hub's bus itself, on its event loop.
    starts_bus = True

    #: gunicorn's ``load_wsgi`` sets it to the front layers; then it is the :class:`ASGIHub`.
    wsgi: Any

    # uvicorn's http and loop: httptools and uvloop when installed ('auto');
    # lifespan off: the bus runs the ASGI mounts' lifespans, as in one process.
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "auto",
        "http": "auto",
        "lifespan": "off",
        "access_log": False,
        "server_header": False,
        # forwarded headers are the front layer's (wsgihub.proxy, --forwarded-allow-ips)
        "proxy_headers": False,
    }

    #: Open connections per worker, shared with the master's other workers (made in the master).
    _loads: ClassVar[_Loads | None] = None
    #: This worker's row in :attr:`_loads` (``None``: every row taken; it accepts without balancing).
    _slot: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """gunicorn's, run in the master before the fork: the worker's row of the shared table."""
        super().__init__(*args, **kwargs)
        if HubWorker._loads is None:
            HubWorker._loads = _Loads()
        self._slot = HubWorker._loads.claim(self)

    #: A stop signal that came while the worker was still booting (loading the site,
    #: starting the bus): the worker then stops as soon as it has started.
    _early_signal: int | None = None
    #: The server, once made: from then on a signal goes to it.
    _server: _DrainingServer | None = None

    def init_signals(self) -> None:
        """uvicorn-worker's, with SIGTERM/SIGINT/SIGQUIT remembered until uvicorn's serve takes them.

        (uvicorn-worker leaves them at their default action until then: a stop
        that came while the site loads or the bus starts killed the worker
        without its bus's stop.)
        """
        super().init_signals()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(signum, self._remember_signal)
            signal.siginterrupt(signum, False)

    def _remember_signal(self, signum: int, frame: Any) -> None:
        if self._server is not None:
            self._server.on_signal(signum, frame)
        elif self._early_signal is None:
            self._early_signal = signum

    def load_wsgi(self) -> None:
        """The hub in its front layers (gunicorn's load), served as ``hub.asgi``."""
        super().load_wsgi()
        wrapped: Any = self.wsgi  # the hub in its front layers (a WSGI application)
        hub: Hub | None = getattr(self.app, "hub", None)
        if hub is None:  # pragma: no cover - GunicornServer.load() always sets it
            raise RuntimeError("the uvicorn worker serves a wsgihub GunicornServer only")
        options = getattr(self.app, "front_options", None)
        threads = getattr(options, "threads", None) or DEFAULT_THREADS
        self.wsgi = ASGIHub(hub, wrapped, threads=threads, front_paths=front_paths(options))
        self.config.timeout_graceful_shutdown = getattr(self.app, "drain_timeout", DEFAULT_DRAIN_TIMEOUT)

    async def _serve(self) -> None:
        app: ASGIHub = self.wsgi
        bus = app.hub.bus  # type: ignore[attr-defined]
        app.bind(asyncio.get_running_loop())
        try:
            # in a thread: start listeners block, and the lifespans need this loop free
            await asyncio.to_thread(bus.start)
        except Exception as exc:  # noqa: BLE001 - one line, then gunicorn's worker boot error
            sys.stderr.write(f"wsgihub: error: {describe_start_failure(bus, exc)}\n")
            sys.stderr.flush()
            await asyncio.to_thread(exit_after_failed_start, bus)
            self.app.hub = None  # worker_exit: nothing left to exit
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        # The site is loaded and started: what that made lives as long as the worker.  Frozen,
        # the collector's full passes no longer walk it (with Django, Flask and Pyramid loaded
        # one took 60-170 ms every few seconds under load, every request on the worker waiting).
        freeze_startup_objects()
        self.config.app = app
        server = _DrainingServer(self.config, bus, getattr(self.app, "drain_delay", 0.0))
        if self._loads is not None and self._slot is not None:
            server.balance = (self._loads, self._slot)
        self._server = server
        if self._early_signal is not None:  # stopped while booting: start, then drain at once
            server.on_signal(self._early_signal, None)
        try:
            await server.serve(sockets=self.sockets)
        finally:
            if server.balance is not None:  # not serving (also if it never started): not counted
                server.balance[0].publish(server.balance[1], None)
            # drained (or cut short): the apps' teardown and lifespan shutdown run on this loop
            await asyncio.to_thread(_stop_and_exit, bus)
            self.app.hub = None
        if not server.started:  # pragma: no cover - uvicorn could not serve the sockets
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def _stop_and_exit(bus: Bus) -> None:
    with contextlib.suppress(Exception):  # each failure was logged on the bus
        bus.exit()


class _DrainingServer(Server):  # type: ignore[misc,unused-ignore]  # (Any where uvicorn is not installed: lint env)
    """uvicorn's server with wsgihub's drain on SIGTERM/SIGINT (see the module docs)."""

    def __init__(self, config: Any, bus: Bus, delay: float) -> None:
        super().__init__(config)
        self.bus = bus
        self.delay = delay
        self._draining = False
        self._cut = threading.Event()
        #: The shared table of open connections and this worker's row: accept the least-loaded way.
        self.balance: tuple[_Loads, int] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's, with gunicorn's sockets accepted by :class:`_Acceptor` (see the module docs)."""
        if self.balance is None or not sockets:
            await super().startup(sockets=sockets)
            return
        await super().startup(sockets=[])  # uvicorn's state, no server of its own
        loads, slot = self.balance
        config = self.config
        connections = self.server_state.connections = _Counted(loads, slot)

        protocol_class: Any = config.http_protocol_class

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            # what uvicorn's startup makes for each accepted connection
            protocol: asyncio.Protocol = protocol_class(
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop
            )
            return protocol

        loop = asyncio.get_running_loop()
        acceptors: list[Any] = [_Acceptor(loop, sock, create_protocol, config.ssl, connections) for sock in sockets]
        self.servers = acceptors

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """SIGTERM and SIGINT drain, SIGQUIT stops at once; nothing is re-raised afterwards.

        (uvicorn's own handlers re-raise the signal after the drain, which
        would end the worker before gunicorn's ``worker_exit``.)
        """
        handled = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
        original = {signum: signal.signal(signum, self.on_signal) for signum in handled}
        for signum in handled:
            signal.siginterrupt(signum, False)
        try:
            yield
        finally:
            for signum, handler in original.items():
                signal.signal(signum, handler)

    def on_signal(self, signum: int, frame: Any) -> None:
        """SIGTERM/SIGINT: drain (once); SIGINT again or SIGQUIT: stop at once."""
        if signum == signal.SIGQUIT or (self._draining and signum == signal.SIGINT):
            # gunicorn's quick exit, or Ctrl-C again: stop at once
            self.should_exit = self.force_exit = True
            self._cut.set()
            return
        if self._draining:
            # SIGTERM again: one stop brings two (Ctrl-C or systemd signal the whole
            # group, then the master sends each worker SIGTERM); the drain goes on
            return
        self._draining = True
        # the bus's listeners log: not inside a signal handler
        threading.Thread(target=self._drain, name="wsgihub-drain", daemon=True).start()

    def _drain(self) -> None:
        announce_drain(self.bus)
        if self.delay > 0:
            self.bus.log(
                f"Draining: health answers 503; still accepting for {self.delay:g} s (drain delay)."
            )
            self._cut.wait(self.delay)
        self.should_exit = True


#: Rows of the shared table: workers alive at once (old ones draining after SIGHUP included)
#: beyond this accept without balancing.
_SLOTS = 64
#: How long a worker holding more connections than another waits before it looks again, seconds.
_DEFER = 0.001
#: At most this many waits for one connection: then the busier worker takes it anyway.
_MAX_DEFERRALS = 20


class _Loads:
    """Open connections of each live uvicorn worker, in memory the master shares with its workers.

    Made in the master (gunicorn builds each worker object there, then forks):
    one 8-byte row per worker, written only by that worker (its open
    connections + 1 while it serves, 0 otherwise), read by the others when a
    connection waits to be accepted.
    """

    def __init__(self) -> None:
        self.memory = mmap.mmap(-1, 8 * _SLOTS)
        self._owners: list[Any] = [None] * _SLOTS

    def claim(self, worker: Any) -> int | None:
        """In the master: a row for ``worker`` (one no live worker holds), or ``None`` if all are held.

        Rows of workers that died without clearing theirs (killed at the
        timeout) are cleared here too: gunicorn spawns a worker after reaping one.
        """
        free: int | None = None
        for slot, owner in enumerate(self._owners):
            if owner is not None and not _alive(getattr(owner, "pid", None)):
                self._owners[slot] = owner = None
                self.publish(slot, None)
            if owner is None and free is None:
                free = slot
        if free is not None:
            self._owners[free] = worker
            self.publish(free, None)  # counted once the worker serves
        return free

    def publish(self, slot: int, connections: int | None) -> None:
        """This worker's open connections (``None``: not serving, not counted)."""
        struct.pack_into("q", self.memory, 8 * slot, 0 if connections is None else connections + 1)

    def busier(self, slot: int) -> bool:
        """Does worker ``slot`` hold more open connections than some other serving worker?"""
        rows = struct.unpack_from(f"{_SLOTS}q", self.memory)
        mine = rows[slot]
        return any(0 < row < mine for row in rows)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by another user's process
        return False
    return True


class _Counted(set[Any]):
    """uvicorn's set of open connections that publishes its size in the shared table as it changes.

    Connections accepted but not yet made (their protocol's ``connection_made``
    comes a loop turn later) count too (:attr:`pending`): a burst of
    connections must not all land here before the count shows them.
    """

    def __init__(self, loads: _Loads, slot: int) -> None:
        super().__init__()
        self._loads = loads
        self._slot = slot
        self.pending = 0
        #: No longer accepting (draining, stopped): not counted by the others any more.
        self.closed = False
        loads.publish(slot, 0)

    def publish(self) -> None:
        self._loads.publish(self._slot, None if self.closed else len(self) + self.pending)

    def busier(self) -> bool:
        """Does this worker hold more connections than another serving worker?"""
        return self._loads.busier(self._slot)

    def add(self, item: Any) -> None:
        super().add(item)
        self.publish()

    def discard(self, item: Any) -> None:
        super().discard(item)
        self.publish()

    def remove(self, item: Any) -> None:
        super().remove(item)
        self.publish()


class _Acceptor:
    """A listening socket accepted one connection at a time, least-loaded worker first.

    Stands in for the server uvicorn makes per socket (``close()``,
    ``wait_closed()``): each accepted connection gets uvicorn's protocol
    through ``loop.connect_accepted_socket``, as uvicorn's own server gives it.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        factory: Callable[[], asyncio.Protocol],
        ssl: Any,
        connections: _Counted,
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.factory = factory
        self.ssl = ssl
        self.connections = connections
        self._fd = sock.fileno()
        self._deferrals = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        sock.setblocking(False)
        loop.add_reader(self._fd, self._ready)

    def _ready(self) -> None:
        if self._deferrals < _MAX_DEFERRALS and self.connections.busier():
            # another worker holds fewer connections: let it take this one
            self._deferrals += 1
            self._pause(_DEFER)
            return
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            self._deferrals = 0  # taken by another worker (or gone)
            return
        except OSError as exc:  # out of file descriptors and the like: as asyncio's server, wait 1 s
            self.loop.call_exception_handler(
                {"message": "socket.accept() out of system resource", "exception": exc, "socket": self.sock}
            )
            self._pause(1.0)
            return
        self._deferrals = 0
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections.pending += 1
        self.connections.publish()
        task = self.loop.create_task(self.loop.connect_accepted_socket(self.factory, conn, ssl=self.ssl))
        self._tasks.add(task)
        task.add_done_callback(self._connected(conn))

    def _connected(self, conn: socket.socket) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            self.connections.pending -= 1
            self.connections.publish()
            if not task.cancelled() and task.exception() is not None:  # a TLS handshake that failed, ...
                conn.close()

        return done

    def _pause(self, seconds: float) -> None:
        self.loop.remove_reader(self._fd)
        self._timer = self.loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        self._timer = None
        if not self._closed:
            self.loop.add_reader(self._fd, self._ready)

    def close(self) -> None:
        """Stop accepting (uvicorn's shutdown; connections already open go on)."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.loop.remove_reader(self._fd)
        # a draining worker takes no new connection: the others must not wait for it to
        self.connections.closed = True
        self.connections.publish()

    async def wait_closed(self) -> None:
        """Nothing to wait for once closed (uvicorn's shutdown awaits it)."""
